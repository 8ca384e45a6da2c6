// Artifact-by-artifact comparison of a run and its replay. Each comparison gives a verdict:
// identical (same bytes or values), within tolerance (differences no larger than --tolerance), or
// differs; with the numbers that decided it. Tensors are compared bitwise first, then by max
// absolute difference; images by sha256, then by max pixel difference (0..1) and PSNR; metrics by
// absolute and relative delta.
import { open } from 'node:fs/promises';
import sharp from 'sharp';
import { checkSafetensors } from '../challenge/safetensors.ts';
import { sha256File } from '../artifacts/content-store.ts';

export type Verdict = 'identical' | 'within tolerance' | 'differs';

export interface Comparison {
  artifact: string;
  verdict: Verdict;
  detail: string;
  numbers?: Record<string, number | null>;
}

const judge = (delta: number, tolerance: number): Verdict => (delta === 0 ? 'identical' : delta <= tolerance ? 'within tolerance' : 'differs');

function decode(dtype: string, bytes: Buffer): Float64Array {
  const n = bytes.length / ({ F64: 8, F32: 4, F16: 2, BF16: 2 }[dtype] ?? 0);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'F64') out[i] = bytes.readDoubleLE(i * 8);
    else if (dtype === 'F32') out[i] = bytes.readFloatLE(i * 4);
    else {
      const h = bytes.readUInt16LE(i * 2);
      if (dtype === 'BF16') {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(h << 16);
        out[i] = b.readFloatLE(0);
      } else {
        const e = (h >> 10) & 0x1f;
        const f = h & 0x3ff;
        const v = e === 0 ? f * 2 ** -24 : e === 31 ? (f ? Number.NaN : Number.POSITIVE_INFINITY) : (1 + f / 1024) * 2 ** (e - 15);
        out[i] = h & 0x8000 ? -v : v;
      }
    }
  }
  return out;
}

async function tensorBytes(file: string): Promise<Map<string, { dtype: string; shape: number[]; bytes: Buffer }>> {
  const check = await checkSafetensors(file);
  if (!check.ok) throw new Error(`${file}: ${check.reason}`);
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(8);
    await handle.read(head, 0, 8, 0);
    const n = Number(head.readBigUInt64LE(0));
    const header = JSON.parse((await handle.read(Buffer.alloc(n), 0, n, 8)).buffer.toString()) as Record<string, { data_offsets: [number, number] }>;
    const out = new Map<string, { dtype: string; shape: number[]; bytes: Buffer }>();
    for (const t of check.tensors) {
      const [a, b] = header[t.name]!.data_offsets;
      const bytes = Buffer.alloc(b - a);
      await handle.read(bytes, 0, b - a, 8 + n + a);
      out.set(t.name, { dtype: t.dtype, shape: t.shape, bytes });
    }
    return out;
  } finally {
    await handle.close();
  }
}

/** Two safetensors files: the same bytes, else every tensor's max absolute difference. */
export async function compareTensors(artifact: string, a: string, b: string, tolerance: number): Promise<Comparison> {
  if ((await sha256File(a)) === (await sha256File(b))) return { artifact, verdict: 'identical', detail: 'the same bytes (sha256)' };
  const [ta, tb] = await Promise.all([tensorBytes(a), tensorBytes(b)]);
  const names = new Set([...ta.keys(), ...tb.keys()]);
  let worst = 0;
  let worstName = '';
  for (const name of names) {
    const x = ta.get(name);
    const y = tb.get(name);
    if (!x || !y) return { artifact, verdict: 'differs', detail: `tensor ${name} is only in the ${x ? 'recorded' : 'replayed'} file` };
    if (x.dtype !== y.dtype || x.shape.join() !== y.shape.join()) return { artifact, verdict: 'differs', detail: `tensor ${name}: ${x.dtype}[${x.shape}] vs ${y.dtype}[${y.shape}]` };
    if (x.bytes.equals(y.bytes)) continue;
    const [u, v] = [decode(x.dtype, x.bytes), decode(y.dtype, y.bytes)];
    for (let i = 0; i < u.length; i++) {
      const d = Math.abs(u[i]! - v[i]!);
      if (d > worst || Number.isNaN(d)) {
        worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
        worstName = name;
      }
    }
  }
  return { artifact, verdict: judge(worst, tolerance), detail: worst === 0 ? 'every tensor bitwise equal (the files differ in metadata)' : `max |difference| ${worst} (tensor ${worstName})`, numbers: { maxAbsDiff: worst } };
}

/** Two images: the same bytes, else max pixel difference (0..1) and PSNR over RGB. */
export async function compareImages(artifact: string, a: string, b: string, tolerance: number): Promise<Comparison> {
  if ((await sha256File(a)) === (await sha256File(b))) return { artifact, verdict: 'identical', detail: 'the same bytes (sha256)' };
  const [x, y] = await Promise.all([a, b].map((f) => sharp(f).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
  if (x!.info.width !== y!.info.width || x!.info.height !== y!.info.height) return { artifact, verdict: 'differs', detail: `${x!.info.width}x${x!.info.height} vs ${y!.info.width}x${y!.info.height}` };
  let max = 0;
  let sq = 0;
  for (let i = 0; i < x!.data.length; i++) {
    const d = Math.abs(x!.data[i]! - y!.data[i]!);
    max = Math.max(max, d);
    sq += d * d;
  }
  const mse = sq / x!.data.length;
  const psnr = mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255) / mse);
  const diff = max / 255;
  return { artifact, verdict: judge(diff, tolerance), detail: diff === 0 ? 'the same pixels (the files differ in metadata)' : `max pixel difference ${diff.toFixed(4)}, PSNR ${psnr.toFixed(2)} dB`, numbers: { maxPixelDiff: diff, psnr: Number.isFinite(psnr) ? psnr : null } };
}

/** Two metric values: relative delta against the recorded one (absolute where it is 0). */
export function compareMetric(artifact: string, recorded: number | undefined, replayed: number | undefined, tolerance: number): Comparison {
  if (recorded === undefined || replayed === undefined) return { artifact, verdict: 'differs', detail: recorded === undefined ? 'only in the replay' : 'missing from the replay' };
  const abs = Math.abs(replayed - recorded);
  const rel = recorded === 0 ? abs : abs / Math.abs(recorded);
  return { artifact, verdict: judge(rel, tolerance), detail: abs === 0 ? `${recorded}` : `${recorded} → ${replayed} (Δ ${abs.toExponential(3)}, relative ${rel.toExponential(3)})`, numbers: { recorded, replayed, abs, rel } };
}

/** The worst verdict of many. */
export function overall(comparisons: readonly Comparison[]): Verdict {
  return comparisons.some((c) => c.verdict === 'differs') ? 'differs' : comparisons.some((c) => c.verdict === 'within tolerance') ? 'within tolerance' : 'identical';
}
