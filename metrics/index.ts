// medsynth's evaluation engine: FID, KID, IS, PRDC and the MEDVQA-GI challenge protocols on
// ONNX feature extractors run by onnxruntime.
export { evaluate, extractSets, type EvaluateOptions, type EvaluationResult, type CategoryResult } from './evaluate.ts';
export * from './keys.ts';
export { PROTOCOLS, STANDARD, FEATURES, DEFAULT_FEATURES, MEDVQA_GI_2024, MEDVQA_GI_2025, getProtocol, type Protocol } from './protocols/protocols.ts';
export { ExtractorRegistry, type ExtractorSpec, type ExtractorOutput, type Preprocess } from './extractors/registry.ts';
export { defaultRegistry, builtinSpecs, INCEPTION_FID, KERAS_INCEPTION_V3, BIOMEDCLIP, EFFICIENTNET_LITE0 } from './extractors/builtin.ts';
export { openExtractor, type OpenExtractor } from './extractors/session.ts';
export { MetricRegistry, type Metric, type MetricInput, type MetricOutput, type PromptPair } from './metric-registry.ts';
export { defaultMetrics } from './builtin-metrics.ts';
export { FeatureMatrix } from './features/feature-matrix.ts';
export { extractFeatures, type ExtractProgress, type FailedImage } from './features/extract.ts';
export { frechetDistance, fidOfFeatures } from './fid.ts';
export { gaussianOf, type Gaussian } from './linalg/statistics.ts';
export { kid, KID_DEFAULTS, type KidOptions } from './kid.ts';
export { inceptionScore, ISC_DEFAULTS, type IscOptions } from './isc.ts';
export { prdc } from './prdc.ts';
export { fidBootstrap } from './fid-bootstrap.ts';
export { kidWithInterval, type KidInterval } from './kid-interval.ts';
