// Row-major float32 feature rows that grow in chunks: the only per-image state kept while
// evaluating (decoded pixels and model inputs are dropped batch by batch).
export class FeatureMatrix {
  #data: Float32Array;
  #rows = 0;

  constructor(
    readonly dim: number,
    capacity = 256,
  ) {
    this.#data = new Float32Array(dim * Math.max(capacity, 1));
  }

  get rows(): number {
    return this.#rows;
  }

  push(row: ArrayLike<number>): void {
    if (row.length !== this.dim) throw new Error(`feature row of ${row.length} values, expected ${this.dim}`);
    if ((this.#rows + 1) * this.dim > this.#data.length) {
      const grown = new Float32Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data.set(row, this.#rows * this.dim);
    this.#rows++;
  }

  row(i: number): Float32Array {
    return this.#data.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** The rows as one Float64Array (metrics compute in float64). */
  toFloat64(indices?: ArrayLike<number>): Float64Array {
    const n = indices ? indices.length : this.#rows;
    const out = new Float64Array(n * this.dim);
    for (let i = 0; i < n; i++) out.set(this.row(indices ? indices[i]! : i), i * this.dim);
    return out;
  }

  select(indices: ArrayLike<number>): FeatureMatrix {
    const out = new FeatureMatrix(this.dim, indices.length);
    for (let i = 0; i < indices.length; i++) out.push(this.row(indices[i]!));
    return out;
  }

  static fromFloat64(data: Float64Array, dim: number): FeatureMatrix {
    const out = new FeatureMatrix(dim, data.length / dim);
    out.#data.set(data);
    out.#rows = data.length / dim;
    return out;
  }
}
