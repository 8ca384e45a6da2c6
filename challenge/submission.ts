// Reads one team's folder of a challenge as untrusted input, running none of it: team.yaml (a LoRA
// to regenerate with) or images/ + prompts.csv (pre-generated). Every path is resolved inside the
// team folder, symlinks included; weights only as safetensors whose header passes; prompts must be
// UTF-8 text within limits; images are checked for size and decompression bombs before decoding.
// Problems are collected, so a rejected team hears every reason at once.
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { safeRelativePath } from '../datasets/safe-path.ts';
import { UserError } from '../errors.ts';
import { inspectImage } from '../datasets/inspect-image.ts';
import { MAX_PROMPT_CHARS, promptProblem } from '../datasets/prompt-text.ts';
import { generationSchema } from '../experiments/schema.ts';
import { checkSafetensors, type TensorInfo } from './safetensors.ts';

/** The limits an untrusted submission must stay within (one table: the CLI help and the errors read it). */
export const SUBMISSION_LIMITS = {
  teamYamlBytes: 64 * 1024,
  promptsBytes: 1024 * 1024,
  prompts: 1000,
  promptChars: MAX_PROMPT_CHARS,
  images: 5000,
  imageBytes: 20 * 1024 * 1024,
  imagePixels: 40_000_000,
  /** prompts x seeds x images per prompt of one team */
  generated: 5000,
};

export const TEAM_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const teamSchema = z.strictObject({
  name: z.string().min(1).max(100).optional().describe('display name (default: the folder name)'),
  baseModel: z.strictObject({ id: z.string().min(1), revision: z.string().optional() }),
  lora: z.string().min(1).describe('the LoRA, a .safetensors file in the team folder'),
  prompts: z.string().min(1).describe('a text file in the team folder, one prompt per line'),
  seeds: z.array(z.number().int().min(0)).min(1).max(64).default([0]),
  imagesPerPrompt: z.number().int().min(1).max(16).default(1),
  scheduler: generationSchema.shape.scheduler,
  steps: z.number().int().min(1).max(150).default(30),
  guidance: z.number().min(0).max(30).default(7.5),
});

interface Common {
  team: string;
  dir: string;
}
export type Submission =
  | (Common & { kind: 'lora'; ok: true; spec: z.output<typeof teamSchema>; lora: string; tensors: TensorInfo[]; prompts: string[] })
  | (Common & { kind: 'images'; ok: true; images: Array<{ file: string; prompt: string }> })
  | (Common & { kind: 'lora' | 'images' | 'unknown'; ok: false; reasons: string[] });

class Rejected extends Error {}

/** `rel` inside `root` (both real paths), or why not: absolute, "..", or a symlink out. */
async function inside(root: string, rel: string, what: string): Promise<string> {
  const safe = safeRelativePath(rel);
  if (safe === null) throw new Rejected(`${what} "${rel}": absolute or climbing out with "..": only paths inside the team folder are read`);
  const joined = path.join(root, safe);
  let real: string;
  try {
    real = await realpath(joined);
  } catch {
    throw new Rejected(`${what} "${rel}": not found in the team folder`);
  }
  if (real !== root && !real.startsWith(`${root}${path.sep}`)) throw new Rejected(`${what} "${rel}": a symlink that leaves the team folder (to ${real}): refused`);
  return real;
}

async function readLimited(file: string, limit: number, what: string): Promise<Buffer> {
  const info = await stat(file);
  if (!info.isFile()) throw new Rejected(`${what}: not a regular file`);
  if (info.size > limit) throw new Rejected(`${what}: ${info.size} bytes, over the limit of ${limit}`);
  return readFile(file);
}

function utf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new Rejected(`${what}: not UTF-8 text`);
  }
}

/** A prompt within limits: no control characters, not too long. */
function checkPrompt(prompt: string, where: string): string {
  const problem = promptProblem(prompt, SUBMISSION_LIMITS.promptChars);
  if (problem) throw new Rejected(`${where}: ${problem}`);
  return prompt;
}

async function readLoraTeam(team: string, dir: string, reasons: string[]): Promise<Submission> {
  const yamlFile = await inside(dir, 'team.yaml', 'team.yaml');
  let raw: unknown;
  try {
    raw = parseYaml(utf8(await readLimited(yamlFile, SUBMISSION_LIMITS.teamYamlBytes, 'team.yaml'), 'team.yaml'), { maxAliasCount: 50 });
  } catch (err) {
    if (err instanceof Rejected) throw err;
    throw new Rejected(`team.yaml: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = teamSchema.safeParse(raw);
  if (!parsed.success) throw new Rejected(`team.yaml: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  const spec = parsed.data;
  let lora: string | null = null;
  let tensors: TensorInfo[] = [];
  try {
    lora = await inside(dir, spec.lora, 'lora');
    const check = await checkSafetensors(lora);
    if (!check.ok) reasons.push(`lora "${spec.lora}": ${check.reason}`);
    else tensors = check.tensors;
  } catch (err) {
    if (!(err instanceof Rejected)) throw err;
    reasons.push(err.message);
  }
  let prompts: string[] = [];
  try {
    const file = await inside(dir, spec.prompts, 'prompts');
    prompts = utf8(await readLimited(file, SUBMISSION_LIMITS.promptsBytes, `prompts "${spec.prompts}"`), `prompts "${spec.prompts}"`)
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .map((p, i) => checkPrompt(p, `prompts "${spec.prompts}" line ${i + 1}`));
    if (prompts.length === 0) reasons.push(`prompts "${spec.prompts}": no prompts`);
    if (prompts.length > SUBMISSION_LIMITS.prompts) reasons.push(`prompts "${spec.prompts}": ${prompts.length} prompts, over the limit of ${SUBMISSION_LIMITS.prompts}`);
  } catch (err) {
    if (!(err instanceof Rejected)) throw err;
    reasons.push(err.message);
  }
  const generated = prompts.length * spec.seeds.length * spec.imagesPerPrompt;
  if (generated > SUBMISSION_LIMITS.generated) reasons.push(`${generated} images to generate (prompts x seeds x imagesPerPrompt), over the limit of ${SUBMISSION_LIMITS.generated}`);
  if (reasons.length) return { team, dir, kind: 'lora', ok: false, reasons };
  return { team, dir, kind: 'lora', ok: true, spec, lora: lora!, tensors, prompts };
}

async function readImagesTeam(team: string, dir: string, reasons: string[]): Promise<Submission> {
  const csvFile = await inside(dir, 'prompts.csv', 'prompts.csv');
  const text = utf8(await readLimited(csvFile, SUBMISSION_LIMITS.promptsBytes, 'prompts.csv'), 'prompts.csv');
  let rows: string[][];
  try {
    rows = parseCsv(text, { skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  } catch (err) {
    throw new Rejected(`prompts.csv: not parseable as CSV (${(err as Error).message})`);
  }
  const header = (rows[0] ?? []).map((c) => c.toLowerCase());
  const [fileAt, promptAt] = [header.indexOf('file'), header.indexOf('prompt')];
  if (fileAt === -1 || promptAt === -1) throw new Rejected(`prompts.csv: the header must name the columns file and prompt (comma-separated), not ${JSON.stringify(rows[0] ?? [])}`);
  if (rows.length - 1 > SUBMISSION_LIMITS.images) throw new Rejected(`prompts.csv: ${rows.length - 1} rows, over the limit of ${SUBMISSION_LIMITS.images} images`);
  const images: Array<{ file: string; prompt: string }> = [];
  for (const [i, row] of rows.slice(1).entries()) {
    const where = `prompts.csv line ${i + 2}`;
    try {
      const name = row[fileAt] ?? '';
      const file = await inside(dir, path.posix.join('images', name), `${where} file`);
      const bytes = await readLimited(file, SUBMISSION_LIMITS.imageBytes, `${where} image "${name}"`);
      const inspected = await inspectImage(bytes, SUBMISSION_LIMITS.imagePixels);
      if (!inspected.ok) throw new Rejected(`${where} image "${name}": ${inspected.detail}`);
      images.push({ file, prompt: checkPrompt(row[promptAt] ?? '', where) });
    } catch (err) {
      if (!(err instanceof Rejected)) throw err;
      reasons.push(err.message);
    }
  }
  if (images.length < 2) reasons.push(`${images.length} readable image(s): scoring needs at least 2`);
  if (reasons.length) return { team, dir, kind: 'images', ok: false, reasons };
  return { team, dir, kind: 'images', ok: true, images };
}

/** One team folder, read and checked; never throws for what the submission holds. */
export async function readSubmission(root: string, entry: string): Promise<Submission> {
  const reasons: string[] = [];
  if (!TEAM_NAME.test(entry)) return { team: entry.slice(0, 64), dir: '', kind: 'unknown', ok: false, reasons: ['the folder name must be letters, digits, ".", "_" or "-" (at most 64), starting with a letter or digit'] };
  let dir: string;
  try {
    dir = await inside(root, entry, 'team folder');
  } catch (err) {
    return { team: entry, dir: '', kind: 'unknown', ok: false, reasons: [(err as Error).message] };
  }
  const has = async (name: string) => (await lstat(path.join(dir, name)).catch(() => null)) !== null;
  try {
    if (await has('team.yaml')) return await readLoraTeam(entry, dir, reasons);
    if ((await has('images')) && (await has('prompts.csv'))) return await readImagesTeam(entry, dir, reasons);
    return { team: entry, dir, kind: 'unknown', ok: false, reasons: ['neither team.yaml nor images/ with prompts.csv'] };
  } catch (err) {
    if (!(err instanceof Rejected)) throw err;
    return { team: entry, dir, kind: (await has('team.yaml')) ? 'lora' : 'images', ok: false, reasons: [...reasons, err.message] };
  }
}

/** Every team folder of a challenge folder (hidden entries skipped, and counted). */
export async function readChallengeDir(dir: string): Promise<{ root: string; submissions: Submission[]; hidden: number }> {
  let root: string;
  try {
    root = await realpath(dir);
  } catch {
    throw new UserError(`challenge folder ${dir}: not found`);
  }
  const entries = (await readdir(root, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const hidden = entries.filter((e) => e.name.startsWith('.')).length;
  const submissions: Submission[] = [];
  for (const e of entries.filter((e) => !e.name.startsWith('.') && (e.isDirectory() || e.isSymbolicLink()))) submissions.push(await readSubmission(root, e.name));
  return { root, submissions, hidden };
}
