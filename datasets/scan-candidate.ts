// One candidate through the pipeline: read the bytes once, hash them, inspect them once per
// distinct sha256, copy embedded images to the blob store. Never throws: every failure is a reject.
import { createHash } from 'node:crypto';
import type { Candidate, CandidateFacts } from './candidate.ts';
import { CandidateRejected } from './candidate.ts';
import type { EmbeddedImages } from './embedded-images.ts';
import { inspectImage } from './inspect-image.ts';
import type { ImageFacts, Inspection } from './inspect-image.ts';
import { RejectReason, reject } from './rejects.ts';
import type { RejectRow } from './types.ts';

/** A valid image as one source saw it; duplicates are merged later. */
export interface ScannedImage extends CandidateFacts, ImageFacts {
  sha256: string;
  source: string;
  embedded: boolean;
  /** A file that holds these bytes: the source itself, or the blob copy of an embedded image. */
  readablePath: string;
  bytes: number;
}

export type ScanOutcome = { ok: true; image: ScannedImage } | { ok: false; reject: RejectRow };

export function createScanner(maxPixels: number, blobs: EmbeddedImages) {
  // Duplicates are common (the same frame in two classes); decode each distinct image once.
  const inspections = new Map<string, Promise<Inspection>>();

  return async function scan(candidate: Candidate): Promise<ScanOutcome> {
    const { source } = candidate;
    try {
      const bytes = await candidate.read();
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      let inspection = inspections.get(sha256);
      if (!inspection) {
        inspection = inspectImage(bytes, maxPixels);
        inspections.set(sha256, inspection);
      }
      const result = await inspection;
      if (!result.ok) return { ok: false, reject: reject(source, result.reason, result.detail) };
      const readablePath = candidate.embedded ? await blobs.put(sha256, result.facts.format, bytes) : source;
      const { label, labels, prompts, extra, embedded } = candidate;
      return {
        ok: true,
        image: { sha256, source, embedded, readablePath, bytes: bytes.length, label, labels, prompts, extra, ...result.facts },
      };
    } catch (error) {
      if (error instanceof CandidateRejected) return { ok: false, reject: reject(source, error.reason, error.message) };
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, reject: reject(source, RejectReason.unreadable, `could not read the image: ${message}`) };
    }
  };
}
