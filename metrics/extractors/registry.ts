// Feature extractors by name: an ONNX file, the input it takes and the outputs it gives.
// register* validates like torch-fidelity's registry: no duplicates, no whitespace or path
// separators in names, a well-formed spec.
import { UserError } from '../../errors.ts';

export type Preprocess = 'tf1-bilinear-299' | 'tf1-bilinear-224' | 'np-resize-299' | 'clip-224';

export interface ExtractorOutput {
  name: string;
  dim: number;
}

export interface ExtractorSpec {
  name: string;
  /** path of the .onnx file */
  onnx: string;
  /** how decoded images become the model's input (float32 NCHW) */
  preprocess: Preprocess;
  /** input tensor name and its [C, H, W] (the batch axis is dynamic) */
  input: { name: string; chw: [number, number, number] };
  outputs: ExtractorOutput[];
  /** the output that serves as its feature space (Fréchet distance, KID, PRDC of the `features` protocol) */
  featureOutput?: string;
}

export const PREPROCESS_SIZE: Record<Preprocess, number> = { 'tf1-bilinear-299': 299, 'tf1-bilinear-224': 224, 'np-resize-299': 299, 'clip-224': 224 };

export class ExtractorRegistry {
  readonly #specs = new Map<string, ExtractorSpec>();

  register(spec: ExtractorSpec): void {
    const { name } = spec;
    if (typeof name !== 'string' || name.length === 0 || /[\s/\\]/.test(name)) {
      throw new UserError(`extractor name ${JSON.stringify(name)} must be non-empty, without whitespace or path separators`);
    }
    if (this.#specs.has(name)) throw new UserError(`extractor "${name}" is already registered`);
    if (!(spec.preprocess in PREPROCESS_SIZE)) throw new UserError(`extractor "${name}": unknown preprocess "${spec.preprocess}"`);
    const size = PREPROCESS_SIZE[spec.preprocess];
    const [c, h, w] = spec.input.chw;
    if (c !== 3 || h !== size || w !== size) {
      throw new UserError(`extractor "${name}": preprocess ${spec.preprocess} gives [3, ${size}, ${size}], the spec says [${spec.input.chw.join(', ')}]`);
    }
    if (spec.outputs.length === 0 || spec.outputs.some((o) => !Number.isInteger(o.dim) || o.dim < 1)) {
      throw new UserError(`extractor "${name}": outputs need names and positive dimensions`);
    }
    if (spec.featureOutput !== undefined && !spec.outputs.some((o) => o.name === spec.featureOutput)) {
      throw new UserError(`extractor "${name}": featureOutput "${spec.featureOutput}" is not one of its outputs`);
    }
    this.#specs.set(name, { ...spec, outputs: spec.outputs.map((o) => ({ ...o })) });
  }

  get(name: string): ExtractorSpec {
    const spec = this.#specs.get(name);
    if (!spec) throw new UserError(`no extractor "${name}" (registered: ${[...this.#specs.keys()].join(', ') || 'none'})`);
    return spec;
  }

  has(name: string): boolean {
    return this.#specs.has(name);
  }

  names(): string[] {
    return [...this.#specs.keys()];
  }
}
