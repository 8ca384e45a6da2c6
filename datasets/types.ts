// The shapes ingestion produces and the store persists. One row per distinct image (by sha256).

export type Split = 'train' | 'val' | 'test';

export interface ManifestRow {
  /** sha256 of the file's bytes, hex: the image's identity. */
  sha256: string;
  /** Where the bytes can be read now: the first source file, or the blob store for embedded images. */
  path: string;
  /** Every source location that held these exact bytes (duplicates merged), sorted. */
  sourcePaths: string[];
  bytes: number;
  /** Width and height as displayed, i.e. after the EXIF orientation is applied. */
  width: number;
  height: number;
  /** Container format as decoded: jpeg, png, webp, tiff, ... */
  format: string;
  /** What consumers must do to get 8-bit sRGB upright pixels, e.g. ["cmyk->srgb", "exif-orientation-6"]; empty when nothing. */
  normalisations: string[];
  /** Main label (class folder, imagefolder label, ...); null when the layout has none. */
  label: string | null;
  /** Every label/finding known for the image, sorted, deduplicated. */
  labels: string[];
  /** Text prompts describing the image, deduplicated, in first-seen order. */
  prompts: string[];
  split: Split;
  /** Layout-specific extras as a JSON string (e.g. VQA pairs), or null. */
  extra: string | null;
}

export interface RejectRow {
  /** The input that was rejected: a file path, "file.csv:line", "archive.zip!entry", ... */
  source: string;
  /** Short machine-readable reason code, e.g. "truncated", "not-an-image", "too-many-pixels". */
  reason: string;
  /** A sentence a person can act on. */
  detail: string;
}

export interface PromptSet {
  /** e.g. "test-prompts" */
  name: string;
  prompts: string[];
}

export interface IngestResult {
  name: string;
  format: string;
  /** The dataset location as given (resolved to an absolute path or a hub id). */
  source: string;
  rows: ManifestRow[];
  rejects: RejectRow[];
  promptSets: PromptSet[];
  /** sha256 over the canonical manifest (row identities, labels, prompts, splits): the dataset version. */
  manifestHash: string;
  stats: {
    candidates: number;
    accepted: number;
    duplicatesMerged: number;
    rejected: number;
    /** hidden entries (dotfiles, __MACOSX) skipped while listing */
    hiddenSkipped: number;
    byLabel: Record<string, number>;
    bySplit: Record<Split, number>;
  };
}

export interface IngestProgress {
  done: number;
  total: number;
}
