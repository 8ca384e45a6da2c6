// prompt-gt.csv of MEDVQA-GI 2024: "Prompt;Filename", semicolon-separated, CRLF, one row per
// (prompt, image). A file-level problem (wrong delimiter, missing columns) is one reject and
// leaves the images without prompts; a bad row is a reject of that row only.
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import type { Info } from 'csv-parse/sync';
import { RejectReason, reject } from '../rejects.ts';
import type { RejectRow } from '../types.ts';
import { promptProblem } from '../prompt-text.ts';
import { safeRelativePath } from '../safe-path.ts';

const DELIMITER = ';';
const OTHER_DELIMITERS = [',', '\t', '|'];
const REQUIRED = ['prompt', 'filename'] as const;

export interface PromptsOfFile {
  /** Prompts in first-seen order, deduplicated. */
  prompts: string[];
  /** "prompt-gt.csv:<line>" of the first row naming the file. */
  firstRow: string;
  rows: number;
}

export interface PromptCsv {
  /** Normalised relative filename → its prompts. */
  byFile: Map<string, PromptsOfFile>;
  rows: number;
  rejects: RejectRow[];
}

export async function readPromptCsv(csvPath: string): Promise<PromptCsv> {
  const result: PromptCsv = { byFile: new Map(), rows: 0, rejects: [] };
  let bytes: Buffer;
  try {
    bytes = await readFile(csvPath);
  } catch {
    result.rejects.push(reject(csvPath, RejectReason.missingFile, 'prompt-gt.csv not found; images are ingested without prompts'));
    return result;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // read as UTF-8 anyway, a Latin-1 file would give prompts with replacement characters
    result.rejects.push(reject(csvPath, RejectReason.csvUnreadable, 'not UTF-8 text (Latin-1 or another encoding?): save it as UTF-8; images are ingested without prompts'));
    return result;
  }
  // The header decides first: a file with another delimiter may not even parse with ours.
  const headerLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!;
  const [promptAt, fileAt] = REQUIRED.map((column) => headerCells(headerLine, DELIMITER).indexOf(column));
  if (promptAt === -1 || fileAt === -1) {
    result.rejects.push(headerReject(csvPath, headerLine));
    return result;
  }
  let records: { record: string[]; info: Info }[];
  try {
    const options = { delimiter: DELIMITER, bom: true, info: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, trim: true };
    // With info: true each record comes as {record, info}; the typings only know plain rows.
    records = parse(text, options) as unknown as typeof records;
  } catch (error) {
    result.rejects.push(reject(csvPath, RejectReason.csvUnreadable, `not parseable as CSV (${(error as Error).message}); images are ingested without prompts`));
    return result;
  }
  for (const { record, info } of records.slice(1)) {
    addRow(result, `${csvPath}:${info.lines}`, record[promptAt!] ?? '', record[fileAt!] ?? '');
  }
  return result;
}

function addRow(result: PromptCsv, where: string, prompt: string, filename: string): void {
  if (prompt === '' || filename === '') {
    result.rejects.push(reject(where, RejectReason.csvBadRow, `row needs a Prompt and a Filename separated by "${DELIMITER}"`));
    return;
  }
  const problem = promptProblem(prompt);
  if (problem !== null) {
    result.rejects.push(reject(where, RejectReason.badPrompt, `${problem}; the row was ignored, images/${filename} keeps its other prompts`));
    return;
  }
  const rel = safeRelativePath(filename);
  if (rel === null) {
    result.rejects.push(reject(where, RejectReason.pathTraversal, `Filename "${filename}" points outside images/; the row was ignored`));
    return;
  }
  result.rows += 1;
  const entry = result.byFile.get(rel);
  if (!entry) result.byFile.set(rel, { prompts: [prompt], firstRow: where, rows: 1 });
  else {
    entry.rows += 1;
    if (!entry.prompts.includes(prompt)) entry.prompts.push(prompt);
  }
}

function headerCells(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((cell) => cell.trim().replace(/^"(.*)"$/, '$1').toLowerCase());
}

function headerReject(csvPath: string, headerLine: string): RejectRow {
  const usedDelimiter = OTHER_DELIMITERS.find((d) => REQUIRED.every((column) => headerCells(headerLine, d).includes(column)));
  if (usedDelimiter !== undefined) {
    return reject(
      csvPath,
      RejectReason.csvWrongDelimiter,
      `separated by ${JSON.stringify(usedDelimiter)}, expected "${DELIMITER}" (header Prompt;Filename); images are ingested without prompts`,
    );
  }
  return reject(
    csvPath,
    RejectReason.csvMissingColumns,
    `header ${JSON.stringify(headerLine)} lacks the columns Prompt and Filename (separated by "${DELIMITER}"); images are ingested without prompts`,
  );
}
