// Evaluation protocols: which extractor, which metrics, which files count, and what to say
// about the numbers.
import { UserError } from '../../errors.ts';
import { inFeatureSpace, KEY_FD, KEY_FID, KEY_FIDELITY, KEY_MEDVQA2024_FID } from '../keys.ts';
import { BIOMEDCLIP, EFFICIENTNET_LITE0, INCEPTION_FID, KERAS_INCEPTION_V3 } from '../extractors/builtin.ts';

export interface Protocol {
  name: string;
  /** the extractor; for a feature-space protocol, the default that the `features` option replaces */
  extractor: string;
  metrics: string[];
  /** its metrics work in the feature space of whichever extractor `features` names */
  featureSpace?: boolean;
  /** which files of a folder are read */
  fileFilter?: (path: string) => boolean;
  note: string;
}

export const STANDARD = 'standard';
export const MEDVQA_GI_2024 = 'medvqa-gi-2024';
export const MEDVQA_GI_2025 = 'medvqa-gi-2025';
export const FEATURES = 'features';
/** The extractor of the features protocol unless `features` names another: trained, and obtainable offline. */
export const DEFAULT_FEATURES = EFFICIENTNET_LITE0;

export const PROTOCOLS: Record<string, Protocol> = {
  [STANDARD]: {
    name: STANDARD,
    extractor: INCEPTION_FID,
    metrics: ['fid', 'kid', 'isc', 'prdc'],
    note: 'FID/KID/PRDC on pool3 and IS on logits of the FID Inception, images resized to 299x299 as torch-fidelity does (TF1 bilinear); comparable with torch-fidelity and pytorch-fid at equal sample counts',
  },
  [FEATURES]: {
    name: FEATURES,
    extractor: DEFAULT_FEATURES,
    metrics: ['fd', 'kid-features', 'prdc-features'],
    featureSpace: true,
    note: 'Fréchet distance (fd_<extractor>), KID and PRDC in the feature space of the chosen extractor (default efficientnet-lite0: ImageNet-trained EfficientNet-Lite0, 1280-d pooled penultimate features, TF1 bilinear resize to 224x224); not FID: comparable only with numbers from the same extractor file',
  },
  [MEDVQA_GI_2024]: {
    name: MEDVQA_GI_2024,
    extractor: KERAS_INCEPTION_V3,
    metrics: ['medvqa-gi-2024-fid', 'medvqa-gi-2024-is'],
    // the organisers' script keeps names ending in png/jpg/jpeg (case-sensitive, no dot)
    fileFilter: (p) => /(png|jpg|jpeg)$/.test(p),
    note: "MEDVQA-GI 2024 organisers' computation: Fréchet distance of Keras InceptionV3 1000-class softmax outputs after np.resize re-tiling to 299x299x3; NOT comparable with standard FID. IS over 10 parts of the generated images, read in sorted file order (the script used os.listdir order)",
  },
  [MEDVQA_GI_2025]: {
    name: MEDVQA_GI_2025,
    extractor: BIOMEDCLIP,
    metrics: ['medvqa-gi-2025'],
    note: "MEDVQA-GI 2025 organisers' scoring: BiomedCLIP ViT-B/16 CLS features (768-d, after the final LayerNorm, L2-normalised); prompts sorted and paired (0,1), (2,3), ...; fidelity = mean over pairs of 100/(1 + mean FID of A and B against the pair's real images), agreement = mean cosine A x B, diversity = mean pairwise distance within a prompt, FBD = FID of the scored images against their references. Mode official scores only the pairs the organisers' loop reaches (the first half of the prompts); corrected scores all. FBD and fidelity are Fréchet distances in BiomedCLIP space, not FID",
  },
};

export function getProtocol(name: string): Protocol {
  const p = PROTOCOLS[name];
  if (!p) throw new UserError(`unknown protocol "${name}" (known: ${Object.keys(PROTOCOLS).join(', ')})`);
  return p;
}

/** The result key that ranks a protocol's results (a sweep's default objective). */
export function headlineKey(protocol: string, features: string = DEFAULT_FEATURES): string {
  const keys: Record<string, string> = {
    [STANDARD]: KEY_FID,
    [FEATURES]: inFeatureSpace(KEY_FD, features),
    [MEDVQA_GI_2024]: KEY_MEDVQA2024_FID,
    [MEDVQA_GI_2025]: KEY_FIDELITY,
  };
  return keys[getProtocol(protocol).name]!;
}
