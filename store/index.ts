// The metrics store: runs, params, metrics, dataset versions and artifacts in one DuckDB file.

export { defaultStorePath, openStore, withStore } from './open.ts';
export type { OpenStoreOptions } from './open.ts';
export { Store } from './store.ts';
export type { GeneratedImage } from './runs.ts';
export { leaderboardSql } from './sweeps.ts';
export type { LeaderboardOptions, SweepRow, TrialRow } from './sweeps.ts';
export { formatCell, formatTable } from './format-table.ts';
export type { FormatTableOptions } from './format-table.ts';
export type { QueryParams, ResultFileFormat } from './query.ts';
export { arrowTypeFor } from './arrow-out.ts';
export { schemaVersion } from './schema.ts';
export {
  ParamConflictError,
  SchemaTooNewError,
  StoreLockedError,
  StoreMissingError,
  UnknownDatasetError,
} from './errors.ts';
export type {
  ArtifactRecord,
  MetricPoint,
  OnConflict,
  QueryColumn,
  QueryResult,
  RunRow,
  RunUpsert,
} from './types.ts';
