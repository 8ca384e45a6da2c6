// The report base: one nunjucks environment over reports/templates, escaping every value by
// default (prompts, names and labels are untrusted: they may come from challenge submissions).
// Pages extend base.njk, which forbids scripts and any request beyond data: URIs.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { redactSecrets } from '../secrets.ts';

const templates = path.join(import.meta.dirname, 'templates');

function formatNumber(value: unknown, digits = 5): string {
  if (typeof value !== 'number') return value === null || value === undefined ? '—' : String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return value.toLocaleString('en-US');
  return Math.abs(value) >= 1e-3 && Math.abs(value) < 1e6 ? String(Number(value.toPrecision(digits))) : value.toExponential(digits - 1);
}

function formatBytes(n: unknown): string {
  if (typeof n !== 'number') return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(templates, { noCache: true }), {
  autoescape: true,
  throwOnUndefined: false,
  trimBlocks: true,
  lstripBlocks: true,
});
env.addFilter('num', formatNumber);
env.addFilter('bytes', formatBytes);
env.addFilter('short', (hash: unknown, n = 12) => (typeof hash === 'string' ? hash.slice(0, n) : '—'));
env.addFilter('json', (value: unknown) => JSON.stringify(value, null, 2));

/** Renders reports/templates/<template> with `context`; every interpolated value is HTML-escaped, secrets redacted. */
export function renderPage(template: string, context: Record<string, unknown>): string {
  // a report quotes specs, errors and tags: no secret env value may reach the page (secrets.ts)
  return redactSecrets(env.render(template, { generatedAt: new Date().toISOString(), ...context }));
}

/** Writes a rendered page to `file` (folders created); returns its absolute path and size. */
export async function writePage(file: string, html: string): Promise<{ file: string; bytes: number }> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, html);
  return { file: path.resolve(file), bytes: Buffer.byteLength(html) };
}
