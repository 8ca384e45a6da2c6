// The store's tables. Every statement is idempotent, so applying the schema on each open is safe.
// Bump schemaVersion and add a migration step when a table changes shape.

export const schemaVersion = 1;

// Timestamps are TIMESTAMPTZ: an instant, whatever the time zone of the process that reads it.
export const schemaStatements: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
  )`,
  `CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    name VARCHAR,
    experiment VARCHAR,
    spec_hash VARCHAR,
    spec_json VARCHAR,
    dataset_manifest_hash VARCHAR,
    temporal_workflow_id VARCHAR,
    temporal_run_id VARCHAR,
    mlflow_experiment_id VARCHAR,
    mlflow_run_id VARCHAR,
    git_commit VARCHAR,
    status VARCHAR NOT NULL DEFAULT 'pending',
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    error VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS params (
    run_id VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    PRIMARY KEY (run_id, key)
  )`,
  `CREATE TABLE IF NOT EXISTS metrics (
    run_id VARCHAR NOT NULL,
    step BIGINT NOT NULL,
    name VARCHAR NOT NULL,
    value DOUBLE,
    category VARCHAR NOT NULL DEFAULT '',
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (run_id, name, step, category)
  )`,
  `CREATE TABLE IF NOT EXISTS datasets (
    manifest_hash VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    n_images INTEGER NOT NULL,
    n_rejects INTEGER NOT NULL,
    n_duplicates_merged INTEGER NOT NULL,
    stats_json VARCHAR,
    manifest_parquet VARCHAR,
    created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
  )`,
  // idx keeps the manifest's row order, so a dataset reads back exactly as ingestion produced it.
  `CREATE TABLE IF NOT EXISTS images (
    manifest_hash VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    sha256 VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    source_paths VARCHAR[] NOT NULL,
    bytes BIGINT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    format VARCHAR NOT NULL,
    normalisations VARCHAR[] NOT NULL,
    label VARCHAR,
    labels VARCHAR[] NOT NULL,
    prompts VARCHAR[] NOT NULL,
    split VARCHAR NOT NULL,
    extra VARCHAR,
    PRIMARY KEY (manifest_hash, sha256)
  )`,
  `CREATE TABLE IF NOT EXISTS rejects (
    manifest_hash VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    PRIMARY KEY (manifest_hash, source, reason)
  )`,
  `CREATE TABLE IF NOT EXISTS prompt_sets (
    manifest_hash VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    prompt VARCHAR NOT NULL,
    PRIMARY KEY (manifest_hash, name, idx)
  )`,
  `CREATE TABLE IF NOT EXISTS artifacts (
    run_id VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    sha256 VARCHAR,
    kind VARCHAR,
    bytes BIGINT,
    uri VARCHAR,
    local_path VARCHAR,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (run_id, path)
  )`,
  // role says what the run used the dataset for: 'train', 'reference', 'prompts' ...; '' when unsaid.
  `CREATE TABLE IF NOT EXISTS run_datasets (
    run_id VARCHAR NOT NULL,
    manifest_hash VARCHAR NOT NULL,
    role VARCHAR NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, manifest_hash, role)
  )`,
  // One row per generated image: its bytes' hash, where it is kept, and its full provenance as JSON.
  `CREATE TABLE IF NOT EXISTS generated_images (
    run_id VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    prompt VARCHAR NOT NULL,
    seed BIGINT NOT NULL,
    provenance VARCHAR NOT NULL,
    PRIMARY KEY (run_id, sha256)
  )`,
  // A sweep and its trials: each trial is a run (trials.run_id = runs.run_id) whose metrics rank it.
  `CREATE TABLE IF NOT EXISTS sweeps (
    sweep_id VARCHAR PRIMARY KEY,
    experiment VARCHAR NOT NULL,
    spec_hash VARCHAR NOT NULL,
    spec_json VARCHAR NOT NULL,
    method VARCHAR NOT NULL,
    objective VARCHAR NOT NULL,
    mode VARCHAR NOT NULL,
    n_trials INTEGER NOT NULL,
    max_parallel INTEGER NOT NULL,
    gpu_slots INTEGER NOT NULL,
    temporal_run_id VARCHAR,
    mlflow_experiment_id VARCHAR,
    mlflow_run_id VARCHAR,
    git_commit VARCHAR,
    status VARCHAR NOT NULL,
    best_run_id VARCHAR,
    best_value DOUBLE,
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    error VARCHAR
  )`,
  `CREATE TABLE IF NOT EXISTS trials (
    sweep_id VARCHAR NOT NULL,
    trial_index INTEGER NOT NULL,
    run_id VARCHAR NOT NULL,
    overrides_json VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    objective DOUBLE,
    rung_scores_json VARCHAR,
    pruned_at BIGINT,
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    error VARCHAR,
    PRIMARY KEY (sweep_id, trial_index)
  )`,
];
