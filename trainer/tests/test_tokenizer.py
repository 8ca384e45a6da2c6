"""The tiny model's tokenizer is CLIP's real one, built offline from open-clip-torch's BPE file."""

from transformers import CLIPTokenizer

from medsynth_trainer.clip_tokenizer import NUM_MERGES, VOCAB_SIZE, clip_vocab_and_merges

# Ids that CLIP's own tokenizer gives (openai/clip-vit-large-patch14).
KNOWN = {
    "a photo of a cat": [49406, 320, 1125, 539, 320, 2368, 49407],
}


def test_vocabulary_and_merges_match_clip():
    vocab, merges = clip_vocab_and_merges()
    assert len(vocab) == VOCAB_SIZE == 49_408
    assert len(merges) == NUM_MERGES == 48_894
    assert vocab["<|startoftext|>"] == 49406 and vocab["<|endoftext|>"] == 49407
    assert vocab["!"] == 0 and vocab["!</w>"] == 256


def test_saved_tokenizer_encodes_like_clip(tiny_model):
    tokenizer = CLIPTokenizer.from_pretrained(tiny_model / "tokenizer")
    assert len(tokenizer) == 49_408
    assert tokenizer.model_max_length == 77
    for text, ids in KNOWN.items():
        assert tokenizer(text).input_ids == ids
    # CLIP lower-cases and collapses whitespace.
    assert tokenizer("A  Photo of a CAT").input_ids == KNOWN["a photo of a cat"]
    padded = tokenizer("a photo", padding="max_length", max_length=77, truncation=True).input_ids
    assert len(padded) == 77 and padded[-1] == 49407
