// A challenge's ranking: teams by the headline metric (better first), each with its bootstrap
// interval where the protocol gives one. Two teams whose intervals overlap are not told apart: the
// page says so instead of pretending their order is established (a conservative reading: disjoint
// 95 % intervals imply a difference; overlapping ones do not prove its absence).
import { betterIs } from '../metrics/keys.ts';
import { headlineKey } from '../metrics/protocols/protocols.ts';
import type { LeaderboardEntry } from '../workflows/challenge-messages.ts';

/** The metric that ranks a challenge: the first protocol's headline, with its interval keys. */
export function challengeMetric(protocols: readonly string[]) {
  const key = headlineKey(protocols[0]!);
  return { protocol: protocols[0]!, key, name: `eval.${protocols[0]}.${key}`, mode: betterIs(key), low: `${key}_ci_low`, high: `${key}_ci_high` };
}

export interface Scored {
  team: string;
  value: number;
  low: number | null;
  high: number | null;
}

export function rankTeams(scored: readonly Scored[], mode: 'min' | 'max'): LeaderboardEntry[] {
  const sign = mode === 'min' ? 1 : -1;
  const sorted = [...scored].sort((a, b) => sign * (a.value - b.value) || a.team.localeCompare(b.team));
  const overlaps = (a: Scored, b: Scored) => a.low === null || a.high === null || b.low === null || b.high === null || (a.low <= b.high && b.low <= a.high);
  return sorted.map((s, i) => ({ rank: i + 1, ...s, tiedWith: sorted.filter((o) => o !== s && overlaps(s, o)).map((o) => o.team) }));
}
