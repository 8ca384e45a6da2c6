/**
 * `tags.<key> = <value>` in MLflow's search filter syntax. The key goes in backticks (tag keys
 * have dots); the value in whichever quote it does not contain, since MLflow's filter parser
 * does not take escaped quotes.
 */
export function tagEquals(key: string, value: string): string {
  if (key.includes('`')) throw new Error(`tag key ${JSON.stringify(key)} cannot be searched: it contains a backtick`);
  const quote = !value.includes("'") ? "'" : !value.includes('"') ? '"' : undefined;
  if (!quote) throw new Error(`tag value ${JSON.stringify(value)} cannot be searched: it contains both quote characters`);
  return `tags.\`${key}\` = ${quote}${value}${quote}`;
}
