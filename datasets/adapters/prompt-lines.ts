// A prompt file: one prompt per line, blank lines skipped (the MEDVQA-GI test prompts).
import { readFile } from 'node:fs/promises';
import { RejectReason, reject } from '../rejects.ts';
import type { PromptSet, RejectRow } from '../types.ts';

export async function readPromptLines(filePath: string, name: string): Promise<PromptSet | RejectRow> {
  try {
    const text = await readFile(filePath, 'utf8');
    const prompts = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
    return { name, prompts };
  } catch (error) {
    return reject(filePath, RejectReason.missingFile, `prompt file not readable (${(error as NodeJS.ErrnoException).code ?? error}); no "${name}" prompt set`);
  }
}
