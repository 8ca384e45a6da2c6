// Candidate prompts of one category for the prompt search: the user's seed prompts, the
// category's most frequent dataset prompts, and templates x attribute values taken from the
// category's own prompts (the MEDVQA-GI 2024 phrasings: "with 2 polyps", "of size 11-20mm",
// "of type paris is", "with the colors pink and red", "located in the center", "containing
// biopsy forceps") and short VQA answers. Pure and deterministic: the same rows and options give
// the same candidates in the same order.
import { findingsOf } from '../datasets/adapters/findings.ts';
import type { PromptSearchSpec, promptAttributes } from '../experiments/schema.ts';
import { NumpyRandomState } from '../metrics/random/numpy-random-state.ts';

export type Attribute = (typeof promptAttributes)[number];

export const DEFAULT_TEMPLATES = [
  'an endoscopy image of {finding}{attribute}',
  'Generate an image containing {finding}{attribute}.',
  'a close-up endoscopic photograph showing {finding}{attribute}',
] as const;

/** How a label reads inside a sentence; other labels read as themselves with dashes as spaces. */
const FINDING_NAMES: Record<string, string> = {
  polyp: 'a polyp',
  'ulcerative-colitis': 'ulcerative colitis',
  esophagitis: 'oesophagitis',
  cecum: 'the cecum',
  ileum: 'the ileum',
  pylorus: 'the pylorus',
  'z-line': 'the z-line',
  instrument: 'an instrument',
  'bbps-0-1': 'poor bowel preparation (BBPS 0-1)',
  'bbps-2-3': 'good bowel preparation (BBPS 2-3)',
  'impacted-stool': 'impacted stool',
};

export function findingName(label: string): string {
  return FINDING_NAMES[label] ?? label.replace(/[-_]+/g, ' ');
}

/** Each attribute: how its value is found in a (lower-cased) dataset prompt, and the phrase it adds. */
const ATTRIBUTE_PATTERNS: Record<Exclude<Attribute, 'vqa'>, { pattern: RegExp; phrase: (m: RegExpExecArray) => string }> = {
  count: { pattern: /\bwith ([1-9]\d*) (polyps?|instruments?|findings?)\b/, phrase: (m) => `with ${m[1]} ${m[2]}` },
  size: { pattern: /\bpolyp of size ([^.;]+?)\.?$/, phrase: (m) => `with a polyp of size ${m[1]}` },
  paris: { pattern: /\bof type (paris i[a-z]+(?: and paris i[a-z]+)*)/, phrase: (m) => `of type ${m[1]}` },
  colour: { pattern: /\bwith the colou?rs? ([a-z ,]+?)\.?$/, phrase: (m) => `with the colours ${m[1]}` },
  location: { pattern: /\blocated in the ([a-z ,-]+?)\.?$/, phrase: (m) => `located in the ${m[1]}` },
  instrument: { pattern: /\bcontaining (biopsy forceps|polyp snare|metal clip|injection needle|tube)\b/, phrase: (m) => `with ${m[1]}` },
};

/** What the prompt search knows of one image of the category. */
export interface CategoryImage {
  prompts: string[];
  /** short VQA answers of the image, where its dataset has them */
  answers: string[];
}

export interface Candidate {
  prompt: string;
  /** where it came from: seed, dataset, template, or template+<attribute> */
  source: string;
}

/** A VQA answer short enough to be an attribute ("Oesophagitis", "A gastroscopy procedure"). */
export function shortAnswer(answer: string): string | null {
  const text = answer.trim().replace(/\.$/, '');
  const words = text.split(/\s+/);
  if (words.length === 0 || words.length > 3 || /^(yes|no)\b/i.test(text)) return null;
  return text.toLowerCase();
}

/** Attribute values of the category ranked by how many of its images carry them (ties: alphabetical). */
export function attributeValues(images: readonly CategoryImage[], attribute: Attribute, limit: number): string[] {
  const counts = new Map<string, number>();
  for (const image of images) {
    const found = new Set<string>();
    if (attribute === 'vqa') {
      for (const a of image.answers) {
        const short = shortAnswer(a);
        if (short) found.add(short);
      }
    } else {
      const { pattern, phrase } = ATTRIBUTE_PATTERNS[attribute];
      for (const p of image.prompts) {
        const m = pattern.exec(p.toLowerCase().trim());
        if (m) found.add(phrase(m));
      }
    }
    for (const v of found) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, limit)
    .map(([v]) => v);
}

/** The category's most frequent dataset prompts that name its finding. */
export function frequentPrompts(images: readonly CategoryImage[], category: string, limit: number): string[] {
  const counts = new Map<string, number>();
  for (const image of images) {
    for (const p of new Set(image.prompts)) {
      if (findingsOf([p]).labels.includes(category)) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
  }
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, limit)
    .map(([p]) => p);
}

function fill(template: string, category: string, attribute: string | null): string {
  const vqa = attribute !== null && !/^(with|of|located)\b/.test(attribute);
  const tail = attribute === null ? '' : vqa ? `, ${attribute}` : ` ${attribute}`;
  const filled = template.replaceAll('{finding}', findingName(category));
  return (filled.includes('{attribute}') ? filled.replaceAll('{attribute}', tail) : `${filled}${tail}`).replace(/\s+/g, ' ').trim();
}

export interface CandidateOptions extends Pick<PromptSearchSpec, 'valuesPerAttribute' | 'datasetPrompts' | 'seed'> {
  attributes: readonly Attribute[];
  templates: readonly string[];
  /** the user's prompts for this category */
  seeds: readonly string[];
  /** at most this many candidates (seed prompts always kept) */
  limit: number;
}

/**
 * Every candidate of `category`, deduplicated (case and spacing ignored), the user's first; when
 * there are more than `limit`, the others are drawn with numpy's RandomState(seed) and kept in
 * their original order.
 */
export function candidatesFor(category: string, images: readonly CategoryImage[], opts: CandidateOptions): Candidate[] {
  const all: Candidate[] = [
    ...opts.seeds.map((prompt) => ({ prompt, source: 'seed' })),
    ...frequentPrompts(images, category, opts.datasetPrompts).map((prompt) => ({ prompt, source: 'dataset' })),
    ...opts.templates.map((t) => ({ prompt: fill(t, category, null), source: 'template' })),
  ];
  for (const attribute of opts.attributes) {
    for (const value of attributeValues(images, attribute, opts.valuesPerAttribute)) {
      for (const t of opts.templates) all.push({ prompt: fill(t, category, value), source: `template+${attribute}` });
    }
  }
  const seen = new Set<string>();
  const unique = all.filter((c) => {
    const key = c.prompt.toLowerCase().replace(/\s+/g, ' ').trim();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const fixed = unique.filter((c) => c.source === 'seed');
  const rest = unique.filter((c) => c.source !== 'seed');
  const room = Math.max(0, opts.limit - fixed.length);
  if (rest.length <= room) return [...fixed, ...rest];
  const drawn = Array.from(new NumpyRandomState(opts.seed).permutation(rest.length).slice(0, room)).sort((a, b) => a - b);
  return [...fixed, ...drawn.map((i) => rest[i]!)];
}
