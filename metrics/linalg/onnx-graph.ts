// A minimal ONNX ModelProto writer (protobuf wire format by hand) for the one-node graphs the
// linear algebra hands to onnxruntime: its CPU GEMM kernels are far faster than loops in JS.
type Field = [number, number | bigint | string | Uint8Array | Field[]];

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function encode(fields: Field[]): Uint8Array {
  const bytes: number[] = [];
  for (const [num, value] of fields) {
    if (typeof value === 'number' || typeof value === 'bigint') {
      bytes.push(...varint(num << 3), ...varint(value));
      continue;
    }
    const body = typeof value === 'string' ? new TextEncoder().encode(value) : value instanceof Uint8Array ? value : encode(value);
    bytes.push(...varint((num << 3) | 2), ...varint(body.length), ...body);
  }
  return Uint8Array.from(bytes);
}

export const ONNX_DOUBLE = 11;
export const ONNX_FLOAT = 1;

export interface TensorValue {
  name: string;
  elemType: number;
  /** a number is a fixed size, a string a symbolic one */
  dims: (number | string)[];
}

function valueInfo(v: TensorValue): Field[] {
  const dims: Field[] = v.dims.map((d) => [1, typeof d === 'number' ? [[1, d]] : [[2, d]]]);
  return [
    [1, v.name],
    [2, [[1, [[1, v.elemType], [2, dims]]]]],
  ];
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** integer attributes (axis: 1) and integer-list ones (axes: [1]) */
  attributes?: Record<string, number | number[]>;
}

/** AttributeProto: name (1), i (3) or ints (8), type (20: INT 2, INTS 7). */
function attribute(name: string, value: number | number[]): Field {
  return [5, Array.isArray(value) ? [[1, name], ...value.map((v): Field => [8, v]), [20, 7]] : [[1, name], [3, value], [20, 2]]];
}

/** Serialises a graph of standard-domain nodes (opset 17) into ModelProto bytes. */
export function onnxModel(nodes: OnnxNode[], inputs: TensorValue[], outputs: TensorValue[]): Uint8Array {
  const graph: Field[] = [
    ...nodes.map((n, i): Field => [1, [...n.inputs.map((s): Field => [1, s]), ...n.outputs.map((s): Field => [2, s]), [3, `n${i}`], [4, n.op], ...Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v))]]),
    [2, 'medsynth-linalg'],
    ...inputs.map((v): Field => [11, valueInfo(v)]),
    ...outputs.map((v): Field => [12, valueInfo(v)]),
  ];
  return encode([
    [1, 8],
    [2, 'medsynth'],
    [7, graph],
    [8, [[1, ''], [2, 17]]],
  ]);
}
