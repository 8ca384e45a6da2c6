"""Feature extractors for medsynth's metrics, exported to ONNX.

`python -m medsynth_trainer.export --extractor NAME --weights random|real [--seed N] --out FILE.onnx`
builds the network in PyTorch, exports it (opset 17, dynamic batch) and prints one JSON object
with the file's sha256, its input spec and outputs. The TypeScript evaluation engine (metrics/)
runs the file with onnxruntime. `--weights random` gives the full-size architecture with seeded
random weights, for tests and speed benchmarks on machines that cannot download weights.
"""
