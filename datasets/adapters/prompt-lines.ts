// A prompt file: one prompt per line, blank lines skipped (the MEDVQA-GI test prompts). A file that
// is not UTF-8 is one reject (decoding it anyway would give prompts with replacement characters);
// a line that is no prompt (control characters, far too long) is a reject of that line only.
import { readFile } from 'node:fs/promises';
import { promptProblem } from '../prompt-text.ts';
import { RejectReason, reject } from '../rejects.ts';
import type { PromptSet, RejectRow } from '../types.ts';

export async function readPromptLines(filePath: string, name: string): Promise<{ set: PromptSet | null; rejects: RejectRow[] }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(filePath);
  } catch (error) {
    return { set: null, rejects: [reject(filePath, RejectReason.missingFile, `prompt file not readable (${(error as NodeJS.ErrnoException).code ?? error}); no "${name}" prompt set`)] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return { set: null, rejects: [reject(filePath, RejectReason.csvUnreadable, `not UTF-8 text (Latin-1 or another encoding?): save it as UTF-8; no "${name}" prompt set`)] };
  }
  const prompts: string[] = [];
  const rejects: RejectRow[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const prompt = line.trim();
    if (prompt === '') continue;
    const problem = promptProblem(prompt);
    if (problem === null) prompts.push(prompt);
    else rejects.push(reject(`${filePath}:${index + 1}`, RejectReason.badPrompt, `${problem}; the line was ignored`));
  }
  return { set: { name, prompts }, rejects };
}
