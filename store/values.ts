// Turning DuckDB's JS values into what callers expect.

/** BIGINTs come back as bigint; make them numbers where no precision is lost, in nested values too. */
export function toPlainValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const asNumber = Number(value);
    return Number.isSafeInteger(asNumber) ? asNumber : value;
  }
  if (Array.isArray(value)) return value.map(toPlainValue);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlainValue(v)]));
  }
  return value;
}

export function asDate(value: unknown): Date | null {
  return value instanceof Date ? value : null;
}

export function asString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
