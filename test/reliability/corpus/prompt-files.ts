// Bad prompt CSVs (MEDVQA-GI 2024 prompt-gt.csv) and test-prompt files, each in a dataset of good
// images: a file-level problem is one reject and the images are still ingested; a bad row is a
// reject of that row and the good rows keep their prompts.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ingestDataset } from '../../../datasets/index.ts';
import type { IngestResult } from '../../../datasets/index.ts';
import { put, writeCommaCsv, writeMedvqaCorpus } from '../../fixtures/bad-corpus.ts';
import type { MedvqaCorpus } from '../../fixtures/bad-corpus.ts';
import { datasetSpec } from '../../fixtures/spec.ts';
import { attempt, lostGood, rejectProblems, verdict } from './case.ts';
import type { BadInputCase, Kind, Root } from './case.ts';

const CRLF = '\r\n';
const goodRows = (corpus: MedvqaCorpus) => Object.entries(corpus.prompts).flatMap(([file, list]) => list.map((p) => `${p};${file}`));

async function ingestMedvqa(root: string, testPrompts?: string): Promise<IngestResult> {
  return ingestDataset(datasetSpec({ format: 'medvqa-gi-2024', path: root, ...(testPrompts ? { testPrompts } : {}) }), { blobDir: path.join(root, '..', 'blobs') });
}

/** Every image of the corpus is a row; with `promptsKept`, each keeps the prompts the good rows give it. */
function goodProblems(result: IngestResult, corpus: MedvqaCorpus, promptsKept: boolean): string[] {
  const images = [...Object.keys(corpus.prompts), corpus.unnamed].map((f) => path.join(corpus.root, 'images', f));
  const problems = lostGood(result, images);
  if (promptsKept) {
    for (const [file, prompts] of Object.entries(corpus.prompts)) {
      const row = result.rows.find((r) => r.sourcePaths.includes(path.join(corpus.root, 'images', file)));
      if (row && JSON.stringify(row.prompts) !== JSON.stringify(prompts)) problems.push(`${file} lost its good prompts: ${JSON.stringify(row.prompts)}`);
    }
  }
  return problems;
}

/** The shared MEDVQA fixture's own bad rows (traversal, missing file, not an image, no filename). */
export async function fixtureRowCases(dir: string): Promise<BadInputCase[]> {
  const corpus = await writeMedvqaCorpus(path.join(dir, 'medvqa'));
  const result = await ingestMedvqa(corpus.root);
  return corpus.bad.map((b) => {
    const escapes: Root | undefined = b.reason === 'path-traversal' ? 'csv' : undefined;
    const { problems, message } = rejectProblems(result, path.join(corpus.root, b.rel), b.reason, b.rel);
    return verdict('prompt-csv', `${b.reason}: ${b.rel}`, [...problems, ...goodProblems(result, corpus, true)], message, escapes);
  });
}

interface CsvVariant {
  name: string;
  /** the whole file, or a row appended to the good rows (its reject names that line) */
  file?: (corpus: MedvqaCorpus) => Promise<void> | Buffer | string;
  row?: string;
  reason: string;
  escapes?: Root;
}

const csvVariants: CsvVariant[] = [
  { name: 'an empty prompt-gt.csv', file: () => '', reason: 'csv-missing-columns' },
  { name: 'commas instead of semicolons', file: (c) => writeCommaCsv(c), reason: 'csv-wrong-delimiter' },
  { name: 'Latin-1 text', file: () => Buffer.from('Prompt;Filename\r\nGenerate an image of a polyp of \xb15 mm.;a1.jpg\r\n', 'latin1'), reason: 'csv-unreadable' },
  { name: 'UTF-16 text (an Excel "Unicode" export)', file: () => Buffer.from('\ufeffPrompt;Filename\r\nGenerate an image of a polyp.;a1.jpg\r\n', 'utf16le'), reason: 'csv-unreadable' },
  { name: 'columns missing from the header', file: () => 'Text;Image\r\nGenerate an image of a polyp.;a1.jpg\r\n', reason: 'csv-missing-columns' },
  { name: 'a prompt with control characters', row: 'Generate an image \u001b[31mwith a polyp\u0007;a1.jpg', reason: 'bad-prompt' },
  { name: 'a 10,000-character prompt', row: `${'Generate an image of a polyp '.repeat(345).slice(0, 10_000)};b2.jpg`, reason: 'bad-prompt' },
  { name: 'an absolute Filename', row: 'Generate an image of a polyp.;/etc/passwd', reason: 'path-traversal', escapes: 'csv' },
];

async function csvVariantCase(dir: string, v: CsvVariant): Promise<BadInputCase> {
  return attempt('prompt-csv', v.name, async () => {
    const corpus = await writeMedvqaCorpus(path.join(dir, `csv-${csvVariants.indexOf(v)}`));
    const csv = path.join(corpus.root, 'prompt-gt.csv');
    let source = csv;
    if (v.row !== undefined) {
      const rows = ['Prompt;Filename', ...goodRows(corpus), v.row];
      await writeFile(csv, rows.join(CRLF) + CRLF);
      source = `${csv}:${rows.length}`;
    } else {
      const content = await v.file!(corpus);
      if (content !== undefined) await writeFile(csv, content);
    }
    const result = await ingestMedvqa(corpus.root);
    const { problems, message } = rejectProblems(result, source, v.reason, 'prompt-gt.csv');
    if (v.escapes && result.rows.some((r) => r.sourcePaths.some((s) => s.endsWith('passwd')))) problems.push('the outside file was read');
    return verdict('prompt-csv', v.name, [...problems, ...goodProblems(result, corpus, v.row !== undefined)], message, v.escapes);
  }, v.escapes);
}

export async function csvCases(dir: string): Promise<BadInputCase[]> {
  const cases: BadInputCase[] = [];
  for (const v of csvVariants) cases.push(await csvVariantCase(dir, v));
  return cases;
}

const OUTSIDE_PROMPT = 'a prompt that lives outside the dataset folder';

interface PromptFileVariant {
  kind: Kind;
  name: string;
  /** writes what the spec's testPrompts names; returns [testPrompts as written, the reject's source] */
  write: (root: string) => Promise<[string, string]>;
  reason: string;
  escapes?: Root;
  /** good lines of the file that must stay in the prompt set */
  kept?: string[];
}

const promptFileVariants: PromptFileVariant[] = [
  {
    kind: 'prompt-file', name: 'test prompts in Latin-1', reason: 'csv-unreadable',
    write: async (root) => { const f = path.join(root, 'test-prompts.txt'); await writeFile(f, Buffer.from('Generate an image of a polyp of \xb15 mm.\n', 'latin1')); return [f, f]; },
  },
  {
    kind: 'prompt-file', name: 'a test prompt with a NUL byte', reason: 'bad-prompt', kept: ['Generate an image of a polyp.', 'Generate an image of the z-line.'],
    write: async (root) => { const f = path.join(root, 'test-prompts.txt'); await writeFile(f, 'Generate an image of a polyp.\nGenerate\u0000 an image\nGenerate an image of the z-line.\n'); return [f, `${f}:2`]; },
  },
  {
    kind: 'path', name: 'testPrompts climbing out of the dataset folder with ..', reason: 'path-traversal', escapes: 'spec',
    write: async (root) => {
      // not there from the working directory, there from the dataset folder: only the fallback finds it
      const rel = `../escape-${path.basename(path.dirname(root))}/prompts.txt`;
      await put(path.join(root, '..'), `escape-${path.basename(path.dirname(root))}/prompts.txt`, `${OUTSIDE_PROMPT}\n`);
      return [rel, rel];
    },
  },
  {
    kind: 'path', name: 'testPrompts a symlink out of the dataset folder', reason: 'path-escape', escapes: 'spec',
    write: async (root) => {
      const outside = path.join(root, '..', 'outside-prompts.txt');
      await writeFile(outside, `${OUTSIDE_PROMPT}\n`);
      await symlink(outside, path.join(root, 'linked-prompts.txt'));
      return ['linked-prompts.txt', path.join(root, 'linked-prompts.txt')];
    },
  },
];

export async function promptFileCases(dir: string): Promise<BadInputCase[]> {
  const cases: BadInputCase[] = [];
  for (const [i, v] of promptFileVariants.entries()) {
    cases.push(
      await attempt(v.kind, v.name, async () => {
        const base = path.join(dir, `prompt-file-${i}`);
        await mkdir(base, { recursive: true });
        const corpus = await writeMedvqaCorpus(path.join(base, 'data'));
        const [testPrompts, source] = await v.write(corpus.root);
        const result = await ingestMedvqa(corpus.root, testPrompts);
        const { problems, message } = rejectProblems(result, source, v.reason, path.basename(source.replace(/:\d+$/, '')));
        const set = result.promptSets.find((s) => s.name === 'test-prompts');
        if (JSON.stringify(result.promptSets).includes(OUTSIDE_PROMPT)) problems.push('the prompt file outside the dataset was read');
        if (v.kept && JSON.stringify(set?.prompts) !== JSON.stringify(v.kept)) problems.push(`the good test prompts were not kept: ${JSON.stringify(set?.prompts)}`);
        return verdict(v.kind, v.name, [...problems, ...goodProblems(result, corpus, false)], message, v.escapes);
      }, v.escapes),
    );
  }
  return cases;
}
