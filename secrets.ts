// Secrets never leave in what medsynth writes: the values of environment variables that hold
// credentials (*_TOKEN, *_KEY, *_SECRET, *_PASSWORD, MLFLOW_TRACKING_TOKEN ...) are replaced by
// their name wherever user text or env-derived text is written to MLflow params and tags, DuckDB
// and reports. A value pasted into a spec, an error message that quotes a URL with a token in it:
// both are redacted on the way out.

/** Names of environment variables whose values are secrets. */
export const SECRET_NAME = /(_TOKEN|_KEY|_SECRET|_PASSWORD|_CREDENTIALS)$|^(MLFLOW_TRACKING_TOKEN|MLFLOW_TRACKING_PASSWORD|HF_TOKEN|HUGGING_FACE_HUB_TOKEN)$/i;

/** Shorter values ("1", "true") would redact ordinary text; real credentials are longer. */
const MIN_SECRET_CHARS = 8;

/** The secret values of `env`, longest first (so a value containing another is replaced whole). */
export function secretValues(env: NodeJS.ProcessEnv = process.env): Array<{ name: string; value: string }> {
  return Object.entries(env)
    .filter((e): e is [string, string] => SECRET_NAME.test(e[0]) && typeof e[1] === 'string' && e[1].trim().length >= MIN_SECRET_CHARS)
    .map(([name, value]) => ({ name, value: value.trim() }))
    .sort((a, b) => b.value.length - a.value.length);
}

/** `text` with every secret value of `env` replaced by "[redacted $NAME]". */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const { name, value } of secretValues(env)) {
    for (const form of [value, encodeURIComponent(value)]) if (out.includes(form)) out = out.split(form).join(`[redacted $${name}]`);
  }
  return out;
}

/** A record of strings (params, tags) with every value redacted. */
export function redactRecord(record: Record<string, string> | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
  if (record === undefined) return undefined;
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, redactSecrets(v, env)]));
}
