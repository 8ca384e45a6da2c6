// Nearest-neighbour search of the memorisation check: 2,000 synthetic x 3,000 training feature
// rows (1280-d, EfficientNet-Lite0's width): this engine (one ONNX graph: normalise rows, Gemm
// with B transposed, ReduceMax, ArgMax, in blocks of 1024 queries) against numpy doing the same (normalise, q @ b.T, argmax,
// max) on the same features, interleaved in the same run. Goal: >= 0.8 of numpy's speed.
// Usage: npm run bench:memorisation
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { nearestByCosine } from '../metrics/memorisation.ts';
import { NumpyRandomState } from '../metrics/random/numpy-random-state.ts';
import { python, writeNpy } from '../test/metrics/helpers.ts';
import { interleave, median, round, saveResult } from './result.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const [m, n, d] = [2000, 3000, 1280];
const rng = new NumpyRandomState(0);
const synthetic = Float32Array.from({ length: m * d }, () => rng.interval(1000) / 1000);
const training = Float32Array.from({ length: n * d }, () => rng.interval(1000) / 1000);
const dir = await mkdtemp(path.join(os.tmpdir(), 'medsynth-bench-nn-'));
await writeNpy(path.join(dir, 'q.npy'), synthetic, [m, d]);
await writeNpy(path.join(dir, 'b.npy'), training, [n, d]);

const ours = async () => {
  const start = performance.now();
  const r = await nearestByCosine(synthetic, m, training, n, d);
  return { seconds: (performance.now() - start) / 1000, first: r.index[0]! };
};
// numpy times itself (loading the files is not part of the search), after one warm-up call
const script = `
import sys, time, numpy as np
q, b = np.load(sys.argv[1]), np.load(sys.argv[2])
def search():
    qn = q / np.linalg.norm(q, axis=1, keepdims=True); bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    s = qn @ bn.T
    return s.argmax(1), s.max(1)
search()
t = time.perf_counter(); i, v = search(); print(time.perf_counter() - t, i[0])`;
const numpy = async () => {
  const [seconds, first] = execFileSync(python, ['-c', script, path.join(dir, 'q.npy'), path.join(dir, 'b.npy')], { encoding: 'utf8' }).trim().split(' ');
  return { seconds: Number(seconds), first: Number(first) };
};

await ours(); // warm-up: the ONNX session is created once per process
const runs = await interleave(RUNS, ours, numpy);
const agree = runs.every((r) => r.a.first === r.b.first);
const ratios = runs.map((r) => r.b.seconds / r.a.seconds);
const result = {
  name: 'memorisation',
  command: 'npm run bench:memorisation',
  workload: `nearest training row of each of ${m} synthetic feature rows among ${n} (${d}-d, cosine), float32`,
  ours: { value: round(median(runs.map((r) => r.a.seconds))), unit: 's' },
  reference: { name: 'numpy (normalise, q @ b.T, argmax, max)', value: round(median(runs.map((r) => r.b.seconds))), unit: 's' },
  ratio: round(median(ratios)),
  goal: '>= 0.8 of numpy speed (ratio = numpy time / our time)',
  runs: RUNS,
  spread: `${round(Math.min(...ratios))}..${round(Math.max(...ratios))}`,
  extra: { sameNearestForRow0: agree },
};
console.log(JSON.stringify(result, null, 2));
console.log(`saved ${saveResult(result)}`);
