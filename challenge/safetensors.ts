// Untrusted weights are read only as safetensors, and only after their header passes: an 8-byte
// little-endian header length, a JSON header of at most maxHeaderBytes naming each tensor's dtype,
// shape and byte range, then the data. The ranges must tile the data exactly (no gap, no overlap,
// nothing past the end), so a loader never reads outside what the header promises. Pickle-based
// formats (.bin, .ckpt, .pt, .pth, .pkl) run code when loaded: they are refused by name and by
// their first bytes, whatever their name says.
import { open, stat } from 'node:fs/promises';

export const SAFETENSORS_LIMITS = {
  /** the safetensors reference refuses headers above 100 MB; LoRA headers are a few KB */
  maxHeaderBytes: 1 << 20,
  maxFileBytes: 2 * 1024 ** 3,
  maxTensors: 20_000,
};

const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
export const PICKLE_EXTENSIONS = ['.bin', '.ckpt', '.pt', '.pth', '.pkl', '.pickle'];

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
}

export type SafetensorsCheck = { ok: true; tensors: TensorInfo[]; metadata: Record<string, string> } | { ok: false; reason: string };

/** What the first bytes say the file is, when they name a format that is not safetensors. */
function sniff(head: Buffer): string | null {
  if (head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return 'a Python pickle';
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'a zip archive (torch.save format, pickle inside)';
  return null;
}

export async function checkSafetensors(file: string, limits = SAFETENSORS_LIMITS): Promise<SafetensorsCheck> {
  const lower = file.toLowerCase();
  const pickled = PICKLE_EXTENSIONS.find((e) => lower.endsWith(e));
  if (pickled) return { ok: false, reason: `${pickled} weights are pickle-based and run code when loaded: submit .safetensors` };
  if (!lower.endsWith('.safetensors')) return { ok: false, reason: 'weights must be a .safetensors file' };
  const size = (await stat(file)).size;
  if (size > limits.maxFileBytes) return { ok: false, reason: `${size} bytes, over the limit of ${limits.maxFileBytes}` };
  if (size < 8) return { ok: false, reason: `${size} bytes: too short for a safetensors header` };
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(8);
    await handle.read(head, 0, 8, 0);
    const format = sniff(head);
    if (format) return { ok: false, reason: `named .safetensors but its bytes are ${format}: refused` };
    const headerBytes = head.readBigUInt64LE(0);
    if (headerBytes > BigInt(limits.maxHeaderBytes)) return { ok: false, reason: `a header of ${headerBytes} bytes, over the limit of ${limits.maxHeaderBytes}` };
    const n = Number(headerBytes);
    if (8 + n > size) return { ok: false, reason: `the header claims ${n} bytes but the file has ${size - 8} after its length` };
    const raw = Buffer.alloc(n);
    await handle.read(raw, 0, n, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as Record<string, unknown>;
    } catch (err) {
      return { ok: false, reason: `the header is not UTF-8 JSON (${(err as Error).message})` };
    }
    if (!header || typeof header !== 'object' || Array.isArray(header)) return { ok: false, reason: 'the header is not a JSON object' };
    const { __metadata__: meta, ...entries } = header;
    const metadata: Record<string, string> = {};
    if (meta !== undefined) {
      if (!meta || typeof meta !== 'object' || Object.values(meta).some((v) => typeof v !== 'string')) return { ok: false, reason: '__metadata__ must map strings to strings' };
      Object.assign(metadata, meta);
    }
    const names = Object.keys(entries);
    if (names.length === 0) return { ok: false, reason: 'no tensors' };
    if (names.length > limits.maxTensors) return { ok: false, reason: `${names.length} tensors, over the limit of ${limits.maxTensors}` };
    const tensors: Array<TensorInfo & { begin: number; end: number }> = [];
    for (const name of names) {
      const t = entries[name] as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof t?.dtype !== 'string' || !(t.dtype in DTYPE_BYTES)) return { ok: false, reason: `tensor ${JSON.stringify(name)}: unsupported dtype ${JSON.stringify(t?.dtype)}` };
      if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return { ok: false, reason: `tensor ${JSON.stringify(name)}: shape must be a list of non-negative integers` };
      const offsets = t.data_offsets;
      if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
        return { ok: false, reason: `tensor ${JSON.stringify(name)}: data_offsets must be [begin, end]` };
      }
      const elements = (t.shape as number[]).reduce((a, b) => a * b, 1);
      if (offsets[1] - offsets[0] !== elements * DTYPE_BYTES[t.dtype]!) return { ok: false, reason: `tensor ${JSON.stringify(name)}: ${offsets[1] - offsets[0]} bytes for a ${t.dtype} tensor of shape [${t.shape}]` };
      tensors.push({ name, dtype: t.dtype, shape: t.shape as number[], begin: offsets[0], end: offsets[1] });
    }
    // the byte ranges must cover the data exactly once
    const sorted = [...tensors].sort((a, b) => a.begin - b.begin);
    let at = 0;
    for (const t of sorted) {
      if (t.begin !== at) return { ok: false, reason: `tensor ${JSON.stringify(t.name)} starts at byte ${t.begin} of the data, expected ${at} (a gap or an overlap)` };
      at = t.end;
    }
    if (8 + n + at !== size) return { ok: false, reason: `the tensors end at byte ${8 + n + at} but the file has ${size}` };
    return { ok: true, tensors: tensors.map(({ name, dtype, shape }) => ({ name, dtype, shape })), metadata };
  } finally {
    await handle.close();
  }
}
