// medsynth challenge DIR: regenerate (in the sandbox) and score every team folder of DIR with the
// chosen protocols, then print the leaderboard and the rejected teams with their reasons.
import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { connectClient, startChallenge } from '../../client.ts';
import { UserError } from '../../errors.ts';
import { collectProvenance } from '../../experiments/provenance.ts';
import { getProtocol } from '../../metrics/protocols/protocols.ts';
import type { ChallengeInput, ChallengeResult } from '../../workflows/challenge-messages.ts';
import { stack as connectStack } from '../context.ts';
import { warnWithoutWorker, withWorkers } from './run.ts';

export interface ChallengeOptions {
  protocol: string;
  real: string;
  baseModel: string;
  revision?: string;
  resolution: number;
  gpuSlots: number;
  bootstrap: number;
  medvqa2025Mode: 'official' | 'corrected';
  timeout: number;
  memoryGb: number;
  id?: string;
  worker: boolean;
  detach: boolean;
}

export async function prepareChallenge(dir: string, opts: ChallengeOptions): Promise<ChallengeInput> {
  if (!existsSync(dir)) throw new UserError(`challenge folder ${dir}: not found`);
  if (!existsSync(opts.real)) throw new UserError(`--real ${opts.real}: not found`);
  const protocols = opts.protocol.split(',').map((p) => p.trim()).filter(Boolean);
  if (protocols.length === 0) throw new UserError('--protocol: name at least one protocol');
  for (const p of protocols) getProtocol(p);
  const root = realpathSync(dir);
  return {
    // the same folder gets the same id: a rerun upserts the same rows
    challengeId: opts.id ?? `challenge-${path.basename(root).replace(/[^\w.-]+/g, '-')}-${createHash('sha256').update(root).digest('hex').slice(0, 8)}`,
    dir: root,
    real: realpathSync(opts.real),
    protocols,
    medvqa2025Mode: opts.medvqa2025Mode,
    bootstrap: opts.bootstrap,
    baseModel: { id: opts.baseModel, ...(opts.revision ? { revision: opts.revision } : {}), resolution: opts.resolution },
    gpuSlots: opts.gpuSlots,
    sandbox: { timeoutS: opts.timeout, memoryBytes: Math.round(opts.memoryGb * 1024 ** 3) },
    provenance: await collectProvenance(null),
  };
}

export function formatChallengeResult(r: ChallengeResult): string {
  const lines = [`challenge ${r.sweepId}: ranked by ${r.metric} (${r.mode === 'min' ? 'lower' : 'higher'} is better)`];
  for (const b of r.leaderboard) {
    const interval = b.low !== null && b.high !== null ? ` [${Number(b.low.toPrecision(4))}, ${Number(b.high.toPrecision(4))}]` : '';
    lines.push(`  ${b.rank}. ${b.team}  ${Number(b.value.toPrecision(5))}${interval}${b.tiedWith.length ? `  (not distinguishable from ${b.tiedWith.join(', ')})` : ''}`);
  }
  for (const t of r.teams.filter((t) => t.status !== 'SCORED')) lines.push(`  rejected: ${t.team}: ${t.reasons.join('; ')}`);
  if (r.report) lines.push(`report: ${r.report.file}`);
  return lines.join('\n');
}

export async function challengeCommand(dir: string, opts: ChallengeOptions): Promise<void> {
  const input = await prepareChallenge(dir, opts);
  if (opts.detach && opts.worker) throw new UserError('--detach and --worker exclude each other: an in-process worker ends with the command');
  const stack = await connectStack({ start: true });
  const client = await connectClient(stack.temporalAddress);
  try {
    await warnWithoutWorker(client, opts.worker);
    const handle = await startChallenge(client, input);
    process.stderr.write(`started challenge ${input.challengeId}: ${input.dir}, protocols ${input.protocols.join(', ')}, ${input.gpuSlots} team(s) at a time\n`);
    if (opts.detach) {
      process.stdout.write(`follow it with: medsynth status ${input.challengeId}\n`);
      return;
    }
    const result = opts.worker ? await withWorkers(stack, () => handle.result()) : await handle.result();
    process.stdout.write(`${formatChallengeResult(result)}\n`);
  } finally {
    await client.connection.close();
  }
}
