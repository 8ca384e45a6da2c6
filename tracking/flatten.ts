/** MLflow's limit on a param value, in characters. */
export const paramValueLimit = 6000;

const truncatedMark = '…[truncated]';

function truncate(value: string, limit: number): string {
  if (value.length <= limit) return value;
  let head = value.slice(0, limit - truncatedMark.length);
  // Do not leave half of a surrogate pair at the cut.
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return head + truncatedMark;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

function leaf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * MLflow params from a nested object: `{ method: { rank: 16 } }` → `{ 'method.rank': '16' }`.
 * Arrays and empty objects become JSON, undefined is left out, values longer than MLflow's
 * limit are cut and end in "…[truncated]" (MLflow rejects longer values).
 */
export function flattenParams(value: Record<string, unknown>, limit = paramValueLimit): Record<string, string> {
  const params: Record<string, string> = {};
  const walk = (node: unknown, prefix: string): void => {
    if (node === undefined) return;
    if (isPlainObject(node) && Object.keys(node).length > 0) {
      for (const [key, child] of Object.entries(node)) walk(child, prefix ? `${prefix}.${key}` : key);
      return;
    }
    params[prefix] = truncate(leaf(node), limit);
  };
  for (const [key, child] of Object.entries(value)) walk(child, key);
  return params;
}
