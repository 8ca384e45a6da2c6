// Bad challenge submissions beside a good team, through one real readChallengeDir: weights that are
// pickles or lying safetensors, prompts that are no prompts, paths that leave the team folder.
import { access, mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { readChallengeDir } from '../../../challenge/submission.ts';
import type { Submission } from '../../../challenge/submission.ts';
import { makePngBomb } from '../../fixtures/images.ts';
import { goodLora, safetensors } from '../../fixtures/safetensors.ts';
import { crashed, verdict } from './case.ts';
import type { BadInputCase, Kind, Root } from './case.ts';

/** Protocol-2 pickle bytes that, if anything ever unpickled them, would create `marker`. */
export function markerPickle(marker: string): Buffer {
  return Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.from(`cbuiltins\nopen\n(V${marker}\nVw\ntR.`, 'utf8')]);
}

const teamYaml = (fields: Record<string, string> = {}) =>
  Object.entries({ baseModel: '{ id: tiny }', lora: 'lora.safetensors', prompts: 'prompts.txt', seeds: '[0, 1]', ...fields })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
const PROMPTS = 'an endoscopy image of a polyp\nan endoscopy image of the cecum\n';
const OUTSIDE = 'a prompt outside the team folder';

interface TeamVariant {
  kind: Kind;
  team: string;
  name: string;
  files: (ctx: { root: string; dir: string; marker: string }) => Promise<Record<string, string | Buffer>> | Record<string, string | Buffer>;
  says: RegExp;
  escapes?: Root;
  /** default files of a good LoRA team this variant leaves out */
  omit?: string[];
  after?: (ctx: { root: string; dir: string }) => Promise<void>;
}

const variants: TeamVariant[] = [
  { kind: 'lora', team: 'pickle-named-safetensors', name: 'pickle bytes named .safetensors', files: ({ marker }) => ({ 'lora.safetensors': markerPickle(marker) }), says: /lora "lora\.safetensors": .*bytes are a Python pickle/ },
  { kind: 'lora', team: 'bin-extension', name: 'a .bin LoRA', files: ({ marker }) => ({ 'team.yaml': teamYaml({ lora: 'lora.bin' }), 'lora.bin': markerPickle(marker) }), says: /lora "lora\.bin": \.bin weights are pickle-based/ },
  { kind: 'lora', team: 'truncated-header', name: 'a truncated safetensors header', files: () => ({ 'lora.safetensors': goodLora().subarray(0, 40) }), says: /lora "lora\.safetensors": the header claims \d+ bytes but the file has/ },
  { kind: 'lora', team: 'offsets-gap', name: 'tensor offsets with a gap', files: () => ({ 'lora.safetensors': safetensors({ 'unet.a.lora.down.weight': { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, 'unet.a.lora.up.weight': { dtype: 'F32', shape: [4], data_offsets: [32, 48] } }, 48) }), says: /lora "lora\.safetensors": .*a gap or an overlap/ },
  { kind: 'lora', team: 'offsets-overlap', name: 'tensor offsets that overlap', files: () => ({ 'lora.safetensors': safetensors({ 'unet.a.lora.down.weight': { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, 'unet.a.lora.up.weight': { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, 24) }), says: /lora "lora\.safetensors": .*a gap or an overlap/ },
  { kind: 'lora', team: 'torch-zip', name: 'a torch.save zip named .safetensors', files: () => ({ 'lora.safetensors': Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64)]) }), says: /lora "lora\.safetensors": .*zip archive/ },
  { kind: 'prompt', team: 'empty-prompts', name: 'an empty prompts file', files: () => ({ 'prompts.txt': '\n\n' }), says: /prompts "prompts\.txt": no prompts/ },
  { kind: 'prompt', team: 'long-prompt', name: 'a 10,000-character prompt', files: () => ({ 'prompts.txt': `an endoscopy image\n${'polyp '.repeat(1667).slice(0, 10_000)}\n` }), says: /prompts "prompts\.txt" line 2: a prompt of 10000 characters/ },
  { kind: 'prompt', team: 'latin1-prompts', name: 'prompts that are not UTF-8', files: () => ({ 'prompts.txt': Buffer.from('an endoscopy image of a polyp \xb15 mm\n', 'latin1') }), says: /prompts "prompts\.txt": not UTF-8 text/ },
  { kind: 'prompt', team: 'control-prompts', name: 'a prompt with control characters', files: () => ({ 'prompts.txt': 'an endoscopy image\nan \u001b[2Jendoscopy image\n' }), says: /prompts "prompts\.txt" line 2: a prompt with a control character/ },
  { kind: 'path', team: 'dotdot', name: 'a prompts path climbing out with ..', escapes: 'submission', files: () => ({ 'team.yaml': teamYaml({ prompts: '../outside/prompts.txt' }) }), says: /prompts "\.\.\/outside\/prompts\.txt": absolute or climbing out/ },
  { kind: 'path', team: 'absolute', name: 'an absolute prompts path', escapes: 'submission', files: ({ dir }) => ({ 'team.yaml': teamYaml({ prompts: path.join(dir, 'outside', 'prompts.txt') }) }), says: /prompts ".*outside\/prompts\.txt": absolute or climbing out/ },
  {
    kind: 'path', team: 'symlink-out', name: 'prompts.txt a symlink out of the team folder', escapes: 'submission', files: () => ({}), omit: ['prompts.txt'], says: /prompts "prompts\.txt": a symlink that leaves the team folder/,
    after: async ({ root, dir }) => symlink(path.join(dir, 'outside', 'prompts.txt'), path.join(root, 'symlink-out', 'prompts.txt')),
  },
  {
    kind: 'image', team: 'images-bomb', name: 'a pre-generated image that is a decompression bomb', files: async () => {
      const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#844' } }).png().toBuffer();
      return { 'images/a.png': png, 'images/b.png': png, 'images/bomb.png': makePngBomb(), 'prompts.csv': 'file,prompt\na.png,a polyp\nb.png,a polyp\nbomb.png,a polyp\n' };
    }, says: /prompts\.csv line 4 image "bomb\.png": .*pixels/, omit: ['team.yaml', 'lora.safetensors', 'prompts.txt'],
  },
];

async function writeTeam(root: string, team: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, team, rel)), { recursive: true });
    await writeFile(path.join(root, team, rel), content);
  }
}

export async function submissionCases(dir: string): Promise<BadInputCase[]> {
  const root = path.join(dir, 'challenge');
  const marker = path.join(dir, 'unpickled-marker');
  await writeTeam(dir, 'outside', { 'prompts.txt': `${OUTSIDE}\n`, 'team.yaml': teamYaml(), 'lora.safetensors': goodLora() });
  await writeTeam(root, 'good-lora', { 'team.yaml': teamYaml(), 'lora.safetensors': goodLora(), 'prompts.txt': PROMPTS });
  for (const v of variants) {
    const files: Record<string, string | Buffer> = { 'team.yaml': teamYaml(), 'lora.safetensors': goodLora(), 'prompts.txt': PROMPTS, ...(await v.files({ root, dir, marker })) };
    for (const rel of v.omit ?? []) delete files[rel];
    await writeTeam(root, v.team, files);
    await v.after?.({ root, dir });
  }
  // a complete, valid team, but reached through a symlink out of the challenge folder
  await symlink(path.join(dir, 'outside'), path.join(root, 'linked-team'));
  const all: TeamVariant[] = [
    ...variants,
    { kind: 'path', team: 'linked-team', name: 'a team folder that is a symlink out of the challenge folder', escapes: 'submission', files: () => ({}), says: /team folder "linked-team": a symlink that leaves/ },
  ];
  let read: { submissions: Submission[] };
  try {
    read = await readChallengeDir(root);
  } catch (error) {
    return all.map((v) => crashed(v.kind, v.name, error, v.escapes));
  }
  const by = new Map(read.submissions.map((s) => [s.team, s]));
  const unpickled = await access(marker).then(() => true, () => false);
  const good = by.get('good-lora');
  return all.map((v) => {
    const s = by.get(v.team);
    const said = !s ? '' : s.ok ? 'accepted' : s.reasons.join('\n');
    const problems: string[] = [];
    if (!s) problems.push(`team ${v.team} is missing from the result`);
    else if (s.ok) problems.push('accepted');
    else if (!v.says.test(said)) problems.push(`the reasons do not say ${v.says}`);
    if (!good?.ok || good.kind !== 'lora' || good.prompts.length !== 2) problems.push(`the good team beside it was not accepted: ${JSON.stringify(good)}`);
    if (unpickled) problems.push('a pickle was unpickled');
    if (v.escapes && s?.ok === true && 'prompts' in s && s.prompts.includes(OUTSIDE)) problems.push('a file outside the team folder was read');
    return verdict(v.kind, v.name, problems, said, v.escapes);
  });
}
