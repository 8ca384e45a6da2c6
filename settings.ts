// Where medsynth keeps its state. Everything lives under one home folder (MEDSYNTH_HOME,
// default .medsynth in the working directory) so a checkout is self-contained.
import path from 'node:path';

export interface Paths {
  home: string;
  /** services.json, the Temporal and MLflow databases and logs */
  services: string;
  store: string;
  /** one folder per dataset version: manifest.parquet, rejects.csv */
  datasets: string;
  /** content-addressed bytes of images that only existed inside another file (parquet) */
  blobs: string;
  /** this node's read-through cache of the blob store (artifacts/blob-store.ts) */
  cache: string;
  /** per-run working folders on this node: the spec, trainer checkpoints, generated images */
  runs: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Paths {
  const home = path.resolve(cwd, env.MEDSYNTH_HOME ?? '.medsynth');
  return {
    home,
    services: path.join(home, 'services'),
    store: env.MEDSYNTH_DUCKDB ? path.resolve(cwd, env.MEDSYNTH_DUCKDB) : path.join(home, 'medsynth.duckdb'),
    datasets: path.join(home, 'datasets'),
    blobs: path.join(home, 'blobs'),
    cache: path.join(home, 'cache'),
    runs: path.join(home, 'runs'),
  };
}
