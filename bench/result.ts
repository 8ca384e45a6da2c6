// The parts every benchmark shares: side-by-side interleaved runs, the median ratio, and the JSON
// file in bench/results/ (format: ../shared/BENCHMARKS.md).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const projectRoot = path.resolve(import.meta.dirname, '..');

export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
export const round = (value: number, digits = 3) => Number(value.toFixed(digits));

/** Runs A and B `runs` times, alternating which goes first, so drifting machine load favours neither. */
export async function interleave<A, B>(runs: number, a: () => Promise<A>, b: () => Promise<B>): Promise<Array<{ a: A; b: B }>> {
  const out: Array<{ a: A; b: B }> = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      const ra = await a();
      out.push({ a: ra, b: await b() });
    } else {
      const rb = await b();
      out.push({ a: await a(), b: rb });
    }
  }
  return out;
}

export function machine(): string {
  return `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${os.availableParallelism()} cores`;
}

export interface BenchResult {
  name: string;
  command: string;
  workload: string;
  ours: { value: number; unit: string };
  reference: { name: string; value: number; unit: string };
  ratio: number;
  goal: string;
  runs: number;
  spread: string;
  extra?: Record<string, unknown>;
  machine?: string;
}

export function saveResult(result: BenchResult): string {
  const { name, command, machine: ran = machine(), ...figures } = result;
  const full = {
    name,
    command,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' }).trim(),
    machine: ran,
    ...figures,
  };
  const file = path.join(projectRoot, 'bench/results', `${result.name}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  return file;
}
