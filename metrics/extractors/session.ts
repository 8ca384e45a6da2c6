// Opening an extractor's ONNX file with onnxruntime and checking that it takes and gives what
// its spec says. CUDA when this onnxruntime build and machine have it, else the CPU.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { UserError } from '../../errors.ts';
import type { ExtractorSpec } from './registry.ts';

export interface OpenExtractor {
  spec: ExtractorSpec;
  session: ort.InferenceSession;
  sha256: string;
  device: 'cuda' | 'cpu';
}

export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const describe = (shape: readonly (number | string)[]) => `[${shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 'N')).join(', ')}]`;

function checkShapes(spec: ExtractorSpec, session: ort.InferenceSession): void {
  const fail = (what: string, expected: string, found: string) => {
    throw new UserError(`extractor "${spec.name}" (${spec.onnx}): ${what}: expected ${expected}, found ${found}`);
  };
  const input = session.inputMetadata.find((m) => m.name === spec.input.name);
  if (!input) fail('input', `"${spec.input.name}"`, session.inputNames.join(', '));
  if (input!.isTensor) {
    const shape = input!.shape;
    const ok = shape.length === 4 && spec.input.chw.every((d, i) => shape[i + 1] === d);
    if (!ok) fail(`input "${spec.input.name}" shape`, describe(['N', ...spec.input.chw]), describe(shape));
    if (input!.type !== 'float32') fail(`input "${spec.input.name}" type`, 'float32', input!.type);
  }
  for (const out of spec.outputs) {
    const meta = session.outputMetadata.find((m) => m.name === out.name);
    if (!meta) fail('outputs', spec.outputs.map((o) => o.name).join(', '), session.outputNames.join(', '));
    if (meta!.isTensor && (meta!.shape.length !== 2 || meta!.shape[1] !== out.dim)) {
      fail(`output "${out.name}" shape`, describe(['N', out.dim]), describe(meta!.shape));
    }
  }
}

// onnxruntime-node ships the CUDA provider library only where its installer could fetch it;
// trying CUDA without it logs an error, so look for the file first.
function cudaProviderPresent(): boolean {
  try {
    const pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const lib = path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
    return existsSync(lib);
  } catch {
    return false;
  }
}

async function create(file: string, providers: string[]): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, {
    executionProviders: providers,
    logSeverityLevel: 3,
    graphOptimizationLevel: 'all',
    intraOpNumThreads: os.availableParallelism(),
  });
}

export async function openExtractor(spec: ExtractorSpec): Promise<OpenExtractor> {
  await access(spec.onnx).catch(() => {
    throw new UserError(
      `extractor "${spec.name}": no file ${spec.onnx}; write it with ` +
        `"python -m medsynth_trainer.export --extractor ${spec.name} --weights real --out ${spec.onnx}"`,
    );
  });
  let session: ort.InferenceSession;
  let device: 'cuda' | 'cpu' = 'cpu';
  try {
    if (!cudaProviderPresent()) throw new Error('no CUDA provider');
    session = await create(spec.onnx, ['cuda']);
    device = 'cuda';
  } catch {
    try {
      session = await create(spec.onnx, ['cpu']);
    } catch (err) {
      throw new UserError(`extractor "${spec.name}": ${spec.onnx} is not a model onnxruntime can load: ${(err as Error).message}`);
    }
  }
  checkShapes(spec, session);
  return { spec, session, sha256: await fileSha256(spec.onnx), device };
}
