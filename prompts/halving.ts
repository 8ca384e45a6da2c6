// Successive halving over a fixed image budget (sequential halving, Karnin et al. 2013): every
// candidate of a category gets k images in round 0; after each round the best ceil(n/eta) go on,
// each given more images (new seeds, the earlier images kept), until the round whose survivors
// would be one. Round 0 costs n x k (the search keeps it within half the budget, see
// maxCandidates); the rest is shared equally by the later rounds, so the images generated never
// exceed the budget. Pure: workflows and tests plan alike.

export interface HalvingRound {
  /** candidates scored in this round */
  candidates: number;
  /** images of each candidate once the round is generated (seeds seed..seed+images-1) */
  images: number;
  /** images each candidate gets in this round (0: the round re-ranks on the images it has) */
  added: number;
}

/** The most candidates a category's budget can take: round 0 spends at most half of it. */
export function maxCandidates(budget: number, k: number): number {
  return Math.floor(budget / (2 * k));
}

/** Survivors after a round of n (the best ceil(n/eta)). */
export const survivors = (n: number, eta: number) => Math.ceil(n / eta);

export function planHalving(opts: { candidates: number; budget: number; k: number; eta: number }): HalvingRound[] {
  const { candidates: n, budget, k, eta } = opts;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`candidates must be a positive integer, not ${n}`);
  if (n * k > budget) throw new RangeError(`${n} candidates of ${k} images need a budget of ${n * k}, not ${budget}`);
  const sizes = [n];
  while (sizes.at(-1)! > 1 && survivors(sizes.at(-1)!, eta) > 1) sizes.push(survivors(sizes.at(-1)!, eta));
  const rounds: HalvingRound[] = [{ candidates: n, images: k, added: k }];
  let left = budget - n * k;
  for (const [i, size] of sizes.slice(1).entries()) {
    const share = Math.floor(left / (sizes.length - 1 - i));
    const added = Math.floor(share / size);
    left -= added * size;
    rounds.push({ candidates: size, images: rounds.at(-1)!.images + added, added });
  }
  return rounds;
}

/** Images a plan generates in all. */
export function planCost(rounds: readonly HalvingRound[]): number {
  return rounds.reduce((sum, r) => sum + r.candidates * r.added, 0);
}

/**
 * Best first: candidates that reached a later round before those stopped earlier; within a round,
 * by the score of their last round (lower is better), ties to the lower index.
 */
export function rankCandidates<T extends { index: number; rounds: ReadonlyArray<{ kid: number }> }>(candidates: readonly T[]): T[] {
  const last = (c: T) => c.rounds.at(-1)?.kid ?? Number.POSITIVE_INFINITY;
  return [...candidates].sort((a, b) => b.rounds.length - a.rounds.length || last(a) - last(b) || a.index - b.index);
}
