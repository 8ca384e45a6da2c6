// Untrusted submissions without services: safetensors headers, paths that leave the team folder,
// team.yaml and prompts checks, and the bubblewrap jail (no network, nothing writable but its
// output folder, nothing of the node visible beyond what it is given).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../activities/trainer-process.ts';
import { pythonMounts, sandboxed } from '../../challenge/sandbox.ts';
import { checkSafetensors } from '../../challenge/safetensors.ts';
import { readChallengeDir } from '../../challenge/submission.ts';
import { goodLora, safetensors } from '../fixtures/safetensors.ts';

const run = promisify(execFile);
const python = path.join(projectRoot, '.venv', 'bin', 'python');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medsynth-submission-'));
});

describe('safetensors header check', () => {
  it.each([
    ['a good file', goodLora(), null],
    ['a pickle named .safetensors', Buffer.concat([Buffer.from([0x80, 0x04, 0x95]), Buffer.alloc(40)]), /bytes are a Python pickle/],
    ['a torch zip named .safetensors', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(40)]), /zip archive/],
    ['a header longer than the file', (() => { const b = goodLora(); b.writeBigUInt64LE(10_000n); return b; })(), /header claims 10000 bytes/],
    ['a huge header length', (() => { const b = goodLora(); b.writeBigUInt64LE(1n << 40n); return b; })(), /over the limit/],
    ['overlapping tensors', safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, 24), /a gap or an overlap/],
    ['a size that does not match the shape', safetensors({ a: { dtype: 'F16', shape: [4], data_offsets: [0, 16] } }, 16), /16 bytes for a F16 tensor of shape \[4\]/],
    ['bytes past the last tensor', safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 20), /the tensors end at byte/],
    ['an unknown dtype', safetensors({ a: { dtype: 'X9', shape: [1], data_offsets: [0, 1] } }, 1), /unsupported dtype/],
    ['a header that is not JSON', Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{oops')]), /not UTF-8 JSON/],
  ])('%s', async (_, bytes, reason) => {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.safetensors`);
    await writeFile(file, bytes);
    const check = await checkSafetensors(file);
    if (reason === null) expect(check).toEqual({ ok: true, tensors: [{ name: 'unet.a.lora.down.weight', dtype: 'F32', shape: [4, 8] }, { name: 'unet.a.lora.up.weight', dtype: 'F32', shape: [8, 4] }], metadata: { format: 'pt' } });
    else expect(check.ok ? 'accepted' : check.reason).toMatch(reason);
  });

  it('refuses pickle-based extensions by name, before reading a byte', async () => {
    for (const ext of ['.bin', '.ckpt', '.pt', '.pth', '.pkl']) {
      const check = await checkSafetensors(path.join(dir, `missing${ext}`));
      expect(check.ok ? '' : check.reason).toMatch(/pickle-based and run code when loaded/);
    }
  });
});

describe('team folders', () => {
  let root: string;
  beforeAll(async () => {
    root = path.join(dir, 'challenge');
    const team = async (name: string, files: Record<string, string | Buffer>) => {
      for (const [f, content] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(root, name, f)), { recursive: true });
        await writeFile(path.join(root, name, f), content);
      }
    };
    const yaml = (extra = '') => `baseModel: { id: tiny }\nlora: lora.safetensors\nprompts: prompts.txt\nseeds: [0, 1]\n${extra}`;
    await team('good-lora', { 'team.yaml': yaml(), 'lora.safetensors': goodLora(), 'prompts.txt': 'an endoscopy image of a polyp\n\nan endoscopy image of the cecum\n' });
    await team('pickle', { 'team.yaml': yaml().replace('lora.safetensors', 'lora.bin'), 'lora.bin': Buffer.from([0x80, 4, 0x95, 0]), 'prompts.txt': 'x\n' });
    await team('escape', { 'team.yaml': yaml(), 'lora.safetensors': goodLora() });
    await symlink('/etc/passwd', path.join(root, 'escape', 'prompts.txt'));
    await team('dotdot', { 'team.yaml': yaml().replace('prompts.txt', '../good-lora/prompts.txt'), 'lora.safetensors': goodLora() });
    await team('bad-yaml', { 'team.yaml': `${yaml('steps: 0\nrun: "rm -rf /"\n')}` });
    await team('bad-prompts', { 'team.yaml': yaml(), 'lora.safetensors': goodLora(), 'prompts.txt': Buffer.concat([Buffer.from('fine\n'), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('x'.repeat(10))]) });
    const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#844' } }).png().toBuffer();
    await team('images', { 'images/a.png': png, 'images/b.png': png, 'prompts.csv': 'file,prompt\na.png,"an image of a polyp, up close"\nb.png,an image of a polyp\nmissing.png,x\n' });
    await team('.hidden', { 'team.yaml': yaml() });
    await mkdir(path.join(root, 'bad name!'));
    await symlink(dir, path.join(root, 'linked-out'));
  });

  it('reads every team, each rejection with its reasons, nothing outside the team folder', async () => {
    const { submissions, hidden } = await readChallengeDir(root);
    expect(hidden).toBe(1);
    const by = Object.fromEntries(submissions.map((s) => [s.team, s]));
    const reasons = (team: string) => {
      const s = by[team]!;
      return s.ok ? 'accepted' : s.reasons.join('\n');
    };
    expect(by['good-lora']).toMatchObject({ ok: true, kind: 'lora', prompts: ['an endoscopy image of a polyp', 'an endoscopy image of the cecum'] });
    expect(reasons('pickle')).toMatch(/lora "lora.bin": \.bin weights are pickle-based/);
    expect(reasons('escape')).toMatch(/prompts "prompts.txt": a symlink that leaves the team folder \(to \/etc\/passwd\)/);
    expect(reasons('dotdot')).toMatch(/prompts "..\/good-lora\/prompts.txt": absolute or climbing out/);
    expect(reasons('bad-yaml')).toMatch(/team.yaml: .*steps: Too small.*Unrecognized key: "run"|team.yaml: .*run.*steps/s);
    expect(reasons('bad-prompts')).toMatch(/prompts "prompts.txt": not UTF-8 text/);
    // the images team: the good rows are kept, the missing file named
    expect(by.images).toMatchObject({ ok: false, kind: 'images' });
    expect(reasons('images')).toMatch(/prompts.csv line 4 file "images\/missing.png": not found/);
    expect(reasons('bad name!')).toMatch(/folder name must be letters/);
    expect(reasons('linked-out')).toMatch(/team folder "linked-out": a symlink that leaves/);
  });
});

describe('the sandbox', () => {
  let server: ReturnType<typeof createServer>;
  let port: number;
  let out: string;
  beforeAll(async () => {
    server = createServer((socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    out = await mkdtemp(path.join(os.tmpdir(), 'medsynth-jail-'));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const jailed = (code: string) => {
    const argv = sandboxed([python, '-c', code], [...pythonMounts(python), path.join(projectRoot, 'trainer')], {}, { readOnly: [], writable: out, timeoutS: 60, memoryBytes: 8 * 1024 ** 3 });
    return run(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH }, encoding: 'utf8' }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  };
  const connect = `import socket\ns = socket.create_connection(("127.0.0.1", PORT), timeout=5)\nprint(s.recv(5).decode())`;

  it('reaches the host server from outside the jail, and not from inside', async () => {
    const outside = await run(python, ['-c', connect.replace('PORT', String(port))], { encoding: 'utf8' });
    expect(outside.stdout.trim()).toBe('hello');
    const inside = await jailed(connect.replace('PORT', String(port)));
    expect(inside.code).not.toBe(0);
    expect(inside.stderr).toMatch(/ConnectionRefusedError|Network is unreachable|OSError/);
    // nor any other address: there is no route out at all
    const external = await jailed('import socket\nsocket.create_connection(("93.184.216.34", 80), timeout=5)');
    expect(external.stderr).toMatch(/Network is unreachable|OSError/);
  });

  it('writes only its output folder, sees none of the node beyond its mounts, and gets no tokens', async () => {
    const secret = path.join(await mkdtemp(path.join(os.tmpdir(), 'medsynth-secret-')), 'store.duckdb');
    await writeFile(secret, 'node data');
    process.env.MLFLOW_TRACKING_TOKEN = 'tok-123';
    const probe = await jailed(
      [
        'import os, pathlib',
        `pathlib.Path(${JSON.stringify(path.join(out, 'ok.txt'))}).write_text('written')`,
        `print('secret visible:', os.path.exists(${JSON.stringify(secret)}))`,
        `print('medsynth home visible:', os.path.exists(${JSON.stringify(path.join(projectRoot, '.medsynth'))}))`,
        "print('token:', os.environ.get('MLFLOW_TRACKING_TOKEN'))",
        'try:\n    open("/usr/evil", "w")\nexcept OSError as e:\n    print("usr:", type(e).__name__)',
      ].join('\n'),
    );
    delete process.env.MLFLOW_TRACKING_TOKEN;
    expect(probe.code).toBe(0);
    expect(probe.stdout).toContain('secret visible: False');
    expect(probe.stdout).toContain('medsynth home visible: False');
    expect(probe.stdout).toContain('token: None');
    expect(probe.stdout).toMatch(/usr: (OSError|PermissionError)/);
    expect(await readFile(path.join(out, 'ok.txt'), 'utf8')).toBe('written');
  });

  it('is killed at its time limit', async () => {
    const argv = sandboxed([python, '-c', 'import time; time.sleep(30)'], pythonMounts(python), {}, { readOnly: [], writable: out, timeoutS: 1, memoryBytes: 8 * 1024 ** 3 });
    const started = Date.now();
    const result = await run(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH } }).then(() => 0, (e: { code: number }) => e.code);
    expect(result).toBe(137);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
