// Extractor registry rules, clear errors for wrong ONNX files, and the exported random-weight
// FID Inception run by onnxruntime against torch-fidelity's own PyTorch module.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { builtinSpecs, INCEPTION_FID } from '../../metrics/extractors/builtin.ts';
import { ExtractorRegistry, type ExtractorSpec } from '../../metrics/extractors/registry.ts';
import { openExtractor } from '../../metrics/extractors/session.ts';
import { extractFeatures } from '../../metrics/features/extract.ts';
import { ONNX_FLOAT, onnxModel } from '../../metrics/linalg/onnx-graph.ts';
import { hasKvasir, kvasirImages, randomOnnx, readNpy, reference, tempDir } from './helpers.ts';

const inceptionSpec = (onnx: string): ExtractorSpec => ({ ...builtinSpecs('/nowhere').find((s) => s.name === INCEPTION_FID)!, onnx });

describe('extractor registry', () => {
  it('rejects duplicates, bad names and inconsistent specs', () => {
    const registry = new ExtractorRegistry();
    registry.register(inceptionSpec('/a.onnx'));
    expect(() => registry.register(inceptionSpec('/b.onnx'))).toThrow(/already registered/);
    for (const name of ['', 'has space', 'a/b', 'a\\b']) {
      expect(() => registry.register({ ...inceptionSpec('/a.onnx'), name })).toThrow(/without whitespace or path separators/);
    }
    expect(() => registry.register({ ...inceptionSpec('/a.onnx'), name: 'wrong-size', input: { name: 'images', chw: [3, 224, 224] } })).toThrow(/\[3, 299, 299\]/);
    expect(() => registry.register({ ...inceptionSpec('/a.onnx'), name: 'no-outputs', outputs: [] })).toThrow(/outputs/);
    expect(() => registry.get('missing')).toThrow(/no extractor "missing"/);
  });

  it('takes a user ONNX under a new name', () => {
    const registry = new ExtractorRegistry();
    registry.register({ ...inceptionSpec('/models/my-inception.onnx'), name: 'my-inception' });
    expect(registry.get('my-inception').onnx).toBe('/models/my-inception.onnx');
  });
});

describe('ONNX files that do not fit', () => {
  it('names the file and the expected and found shapes', async () => {
    const dir = await tempDir();
    const smallInput = path.join(dir, 'small-input.onnx');
    await writeFile(
      smallInput,
      onnxModel(
        [{ op: 'GlobalAveragePool', inputs: ['images'], outputs: ['pool3'] }],
        [{ name: 'images', elemType: ONNX_FLOAT, dims: ['batch', 3, 64, 64] }],
        [{ name: 'pool3', elemType: ONNX_FLOAT, dims: ['batch', 3, 1, 1] }],
      ),
    );
    await expect(openExtractor(inceptionSpec(smallInput))).rejects.toThrow(
      `extractor "inception-fid" (${smallInput}): input "images" shape: expected [N, 3, 299, 299], found [N, 3, 64, 64]`,
    );
    const wrongOutput = path.join(dir, 'wrong-output.onnx');
    await writeFile(
      wrongOutput,
      onnxModel(
        [
          { op: 'GlobalAveragePool', inputs: ['images'], outputs: ['pool3'] },
          { op: 'GlobalMaxPool', inputs: ['images'], outputs: ['logits'] },
          { op: 'GlobalMaxPool', inputs: ['images'], outputs: ['logits_unbiased'] },
        ],
        [{ name: 'images', elemType: ONNX_FLOAT, dims: ['batch', 3, 299, 299] }],
        ['pool3', 'logits', 'logits_unbiased'].map((name) => ({ name, elemType: ONNX_FLOAT, dims: ['batch', 3, 1, 1] })),
      ),
    );
    await expect(openExtractor(inceptionSpec(wrongOutput))).rejects.toThrow(/output "pool3" shape: expected \[N, 2048\], found \[N, 3, 1, 1\]/);
    const garbage = path.join(dir, 'garbage.onnx');
    await writeFile(garbage, 'not a model');
    await expect(openExtractor(inceptionSpec(garbage))).rejects.toThrow(/garbage\.onnx is not a model onnxruntime can load/);
    await expect(openExtractor(inceptionSpec(path.join(dir, 'missing.onnx')))).rejects.toThrow(/no file .*missing\.onnx; write it with/);
  });
});

describe('random-weight FID Inception', () => {
  it("gives torch-fidelity's FeatureExtractorInceptionV3 features (1e-4) through our decode, resize and onnxruntime", async () => {
    const dir = await tempDir();
    let files: string[];
    if (hasKvasir) {
      files = [...kvasirImages('polyp', 3), ...kvasirImages('instrument', 2)];
    } else {
      files = [];
      for (let i = 0; i < 4; i++) {
        const file = path.join(dir, `gen-${i}.png`);
        await sharp({ create: { width: 120 + 40 * i, height: 100, channels: 3, background: { r: 60 * i, g: 120, b: 200 - 40 * i } } })
          .png()
          .toFile(file);
        files.push(file);
      }
    }
    const [onnx] = await Promise.all([randomOnnx('inception-fid'), reference('inception_reference.py', dir, '0', ...files)]);
    const extractor = await openExtractor(inceptionSpec(onnx));
    const ours = await extractFeatures(extractor, files, { set: 'test', protocol: 'standard', batchSize: 2 });
    await extractor.session.release();
    expect(ours.paths).toEqual(files);
    for (const name of ['pool3', 'logits', 'logits_unbiased']) {
      const ref = await readNpy(path.join(dir, `${name}.npy`));
      const m = ours.features.get(name)!;
      let maxAbs = 0;
      let maxDiff = 0;
      for (let i = 0; i < files.length; i++) {
        const row = m.row(i);
        for (let j = 0; j < m.dim; j++) {
          const r = ref.data[i * m.dim + j]!;
          maxAbs = Math.max(maxAbs, Math.abs(r));
          maxDiff = Math.max(maxDiff, Math.abs(row[j]! - r));
        }
      }
      expect(maxDiff / maxAbs, name).toBeLessThan(1e-4);
    }
  });
});
