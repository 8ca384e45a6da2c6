// Every generated bad input is handled: named with a reason, the good inputs beside it kept, no
// crash (issue 16, item 4). The corpus and its checks live in bad-inputs.ts, shared with the
// reliability benchmark.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countByKind, runBadInputCorpus } from './bad-inputs.ts';
import type { BadInputCase } from './bad-inputs.ts';

let dir: string;
let cases: BadInputCase[];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medsynth-bad-inputs-'));
  ({ cases } = await runBadInputCorpus(dir));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the bad-input corpus', () => {
  it('tries at least 30 bad inputs, of every kind', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const kinds = countByKind(cases);
    for (const kind of ['image', 'archive', 'prompt-csv', 'prompt-file', 'parquet', 'spec', 'lora', 'prompt', 'path']) expect(kinds[kind]?.tried, kind).toBeGreaterThan(0);
    const names = cases.map((c) => `${c.kind}: ${c.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('handles every one: named, with a reason, the good inputs beside it kept, nothing crashed', () => {
    const unhandled = cases.filter((c) => !c.handled).map((c) => `${c.kind}: ${c.name}: ${c.message}`);
    expect(unhandled).toEqual([]);
    for (const c of cases) expect(c.message.length, `${c.kind}: ${c.name}`).toBeGreaterThan(15);
  });
});
