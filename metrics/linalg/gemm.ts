// Float64 matrix products through onnxruntime's CPU GEMM (MLAS), tens of GFLOP/s on two cores,
// where plain JS loops manage about one.
import * as ort from 'onnxruntime-node';
import os from 'node:os';
import { ONNX_DOUBLE, onnxModel } from './onnx-graph.ts';

let session: Promise<ort.InferenceSession> | undefined;

function matmulSession(): Promise<ort.InferenceSession> {
  session ??= ort.InferenceSession.create(
    onnxModel(
      [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
      [
        { name: 'a', elemType: ONNX_DOUBLE, dims: ['m', 'k'] },
        { name: 'b', elemType: ONNX_DOUBLE, dims: ['k', 'n'] },
      ],
      [{ name: 'c', elemType: ONNX_DOUBLE, dims: ['m', 'n'] }],
    ),
    { executionProviders: ['cpu'], intraOpNumThreads: os.availableParallelism() },
  );
  return session;
}

/** C (m x n) = A (m x k) * B (k x n), all row-major. */
export async function matmul(a: Float64Array, m: number, k: number, b: Float64Array, n: number): Promise<Float64Array> {
  if (a.length !== m * k || b.length !== k * n) throw new Error(`matmul: ${a.length} != ${m}x${k} or ${b.length} != ${k}x${n}`);
  if (m === 0 || n === 0) return new Float64Array(m * n);
  if (k === 0) return new Float64Array(m * n);
  const s = await matmulSession();
  const out = await s.run({ a: new ort.Tensor('float64', a, [m, k]), b: new ort.Tensor('float64', b, [k, n]) });
  const c = out.c!.data as Float64Array;
  return c;
}

export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    for (let j0 = 0; j0 < cols; j0 += B) {
      const iMax = Math.min(i0 + B, rows);
      const jMax = Math.min(j0 + B, cols);
      for (let i = i0; i < iMax; i++) for (let j = j0; j < jMax; j++) t[j * rows + i] = a[i * cols + j]!;
    }
  }
  return t;
}

/** A * A^T for row-major A (n x d). */
export async function gram(a: Float64Array, n: number, d: number): Promise<Float64Array> {
  return matmul(a, n, d, transpose(a, n, d), n);
}
