// Result keys, exported so that code reading results never spells them by hand
// (torch-fidelity's KEY_METRIC_* constants, same values where the metric is the same).
export const KEY_FID = 'frechet_inception_distance';
export const KEY_FID_CI_LOW = 'frechet_inception_distance_ci_low';
export const KEY_FID_CI_HIGH = 'frechet_inception_distance_ci_high';
export const KEY_KID_MEAN = 'kernel_inception_distance_mean';
export const KEY_KID_STD = 'kernel_inception_distance_std';
export const KEY_ISC_MEAN = 'inception_score_mean';
export const KEY_ISC_STD = 'inception_score_std';
export const KEY_ISC_MEDIAN = 'inception_score_median';
export const KEY_PRECISION = 'precision';
export const KEY_RECALL = 'recall';
export const KEY_DENSITY = 'density';
export const KEY_COVERAGE = 'coverage';
/** MEDVQA-GI 2024: Fréchet distance of Keras InceptionV3 softmax outputs; not a standard FID */
export const KEY_MEDVQA2024_FID = 'medvqa_gi_2024_softmax_fid';
export const KEY_MEDVQA2024_IS_MEAN = 'medvqa_gi_2024_inception_score_mean';
export const KEY_MEDVQA2024_IS_STD = 'medvqa_gi_2024_inception_score_std';
export const KEY_MEDVQA2024_IS_MEDIAN = 'medvqa_gi_2024_inception_score_median';
/** MEDVQA-GI 2025 (BiomedCLIP features) */
export const KEY_FBD = 'frechet_biomedclip_distance';
export const KEY_AGREEMENT = 'agreement';
export const KEY_DIVERSITY = 'diversity';
export const KEY_FIDELITY = 'fidelity';
/** Fréchet distance in a named feature space (the features protocol): fd_<extractor> */
export const KEY_FD = 'fd';
/** A result key in the feature space of `extractor`: `kid` + efficientnet-lite0 -> kid_efficientnet_lite0. */
export function inFeatureSpace(key: string, extractor: string): string {
  return `${key}_${extractor.replace(/[^A-Za-z0-9]+/g, '_')}`;
}

/** The KID keys of the features protocol in the space of `extractor`: kid_<extractor>_mean / _std. */
export function featureKidKeys(extractor: string): { mean: string; std: string } {
  const kid = inFeatureSpace('kid', extractor);
  return { mean: `${kid}_mean`, std: `${kid}_std` };
}

/** Keys where a larger value is the better result; every other key (distances) is better smaller. */
const HIGHER_IS_BETTER = new Set([
  KEY_ISC_MEAN, KEY_ISC_MEDIAN, KEY_PRECISION, KEY_RECALL, KEY_DENSITY, KEY_COVERAGE,
  KEY_MEDVQA2024_IS_MEAN, KEY_MEDVQA2024_IS_MEDIAN, KEY_AGREEMENT, KEY_DIVERSITY, KEY_FIDELITY,
]);

/** Whether `key` (a result key, or a recorded name such as eval.standard.<key>) ranks by min or max. */
export function betterIs(key: string): 'min' | 'max' {
  return HIGHER_IS_BETTER.has(key.replace(/^eval\.[^.]+\./, '')) ? 'max' : 'min';
}
