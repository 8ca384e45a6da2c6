// Evaluation protocols: which extractor, which metrics, which files count, and what to say
// about the numbers.
import { UserError } from '../../errors.ts';
import { BIOMEDCLIP, INCEPTION_FID, KERAS_INCEPTION_V3 } from '../extractors/builtin.ts';

export interface Protocol {
  name: string;
  extractor: string;
  metrics: string[];
  /** which files of a folder are read */
  fileFilter?: (path: string) => boolean;
  note: string;
}

export const STANDARD = 'standard';
export const MEDVQA_GI_2024 = 'medvqa-gi-2024';
export const MEDVQA_GI_2025 = 'medvqa-gi-2025';

export const PROTOCOLS: Record<string, Protocol> = {
  [STANDARD]: {
    name: STANDARD,
    extractor: INCEPTION_FID,
    metrics: ['fid', 'kid', 'isc', 'prdc'],
    note: 'FID/KID/PRDC on pool3 and IS on logits of the FID Inception, images resized to 299x299 as torch-fidelity does (TF1 bilinear); comparable with torch-fidelity and pytorch-fid at equal sample counts',
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
    metrics: ['fbd', 'medvqa-gi-2025-pairs'],
    note: 'MEDVQA-GI 2025 scoring on BiomedCLIP ViT-B/16 image embeddings (open_clip encode_image, 512-d): FBD over all images, agreement / diversity / fidelity = 1000/(1+FID) per prompt pair',
  },
};

export function getProtocol(name: string): Protocol {
  const p = PROTOCOLS[name];
  if (!p) throw new UserError(`unknown protocol "${name}" (known: ${Object.keys(PROTOCOLS).join(', ')})`);
  return p;
}
