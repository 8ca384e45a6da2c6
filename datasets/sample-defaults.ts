// Defaults of the demo's Kvasir-VQA sample, free of imports so the CLI's --help can show them
// without loading DuckDB.

/** Images (distinct img_id) in the sample. */
export const DEFAULT_SAMPLE_LIMIT = 48;
/** How long the hub checks together may wait for answers before the network counts as down. */
export const HUB_CHECK_TIMEOUT_MS = 12_000;
