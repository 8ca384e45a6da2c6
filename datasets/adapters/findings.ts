// Findings named by MEDVQA-GI 2024 prompt templates ("Generate an image containing a polyp.",
// "... with 2 polyps.", "... polyp snareandtube." — the templates glue lists with "and", so the
// patterns have no word boundaries). Labels use the HyperKvasir / kvasir-mini vocabulary.

type Kind = 'abnormality' | 'landmark' | 'instrument';

/** In priority order: the main label is the first abnormality, else an instrument, else a landmark. */
const FINDINGS: ReadonlyArray<{ label: string; pattern: RegExp; kind: Kind }> = [
  { label: 'polyp', pattern: /polyps?(?! ?snare)/, kind: 'abnormality' },
  { label: 'ulcerative-colitis', pattern: /ulcerative colitis/, kind: 'abnormality' },
  { label: 'esophagitis', pattern: /o?esophagitis/, kind: 'abnormality' },
  { label: 'biopsy-forceps', pattern: /biopsy forceps/, kind: 'instrument' },
  { label: 'polyp-snare', pattern: /polyp snare/, kind: 'instrument' },
  { label: 'metal-clip', pattern: /metal clip/, kind: 'instrument' },
  { label: 'injection-needle', pattern: /injection needle/, kind: 'instrument' },
  { label: 'tube', pattern: /tube/, kind: 'instrument' },
  { label: 'z-line', pattern: /z-line/, kind: 'landmark' },
  { label: 'cecum', pattern: /ca?ecum/, kind: 'landmark' },
  { label: 'ileum', pattern: /ileum/, kind: 'landmark' },
  { label: 'pylorus', pattern: /pylorus/, kind: 'landmark' },
];

/** Generic instrument when a prompt counts instruments without naming one. */
const COUNTED_INSTRUMENT = /\b[1-9]\d* instruments?\b/;
const NEGATED = /\b(no|not|without)\b/;

export interface Findings {
  /** Every finding, sorted. */
  labels: string[];
  /** The main finding, or null when the prompts name none. */
  label: string | null;
}

export function findingsOf(prompts: readonly string[]): Findings {
  const affirmative = prompts.map((p) => p.toLowerCase()).filter((p) => !NEGATED.test(p));
  const found = FINDINGS.filter(({ pattern }) => affirmative.some((p) => pattern.test(p)));
  const instrumentNamed = found.some((f) => f.kind === 'instrument');
  const genericInstrument = !instrumentNamed && affirmative.some((p) => COUNTED_INSTRUMENT.test(p));
  const labels = found.map((f) => f.label).concat(genericInstrument ? ['instrument'] : []);
  const main =
    found.find((f) => f.kind === 'abnormality')?.label ??
    (instrumentNamed || genericInstrument ? 'instrument' : found.find((f) => f.kind === 'landmark')?.label) ??
    null;
  return { labels: labels.sort(), label: main };
}
