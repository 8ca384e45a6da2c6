import { describe, expect, it } from 'vitest';
import { artifactProxyUrl } from '../../tracking/artifact-url.ts';
import { tagEquals } from '../../tracking/search-filter.ts';

describe('artifactProxyUrl', () => {
  it.each([
    {
      name: 'proxied root on the tracking server',
      root: 'mlflow-artifacts:/1/abc/artifacts',
      path: 'dataset/manifest.parquet',
      url: 'http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/dataset/manifest.parquet',
    },
    {
      name: 'proxy on another host',
      root: 'mlflow-artifacts://proxy:6000/1/abc/artifacts',
      path: 'a.txt',
      url: 'http://proxy:6000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a.txt',
    },
    {
      name: 'segments are URL-encoded',
      root: 'mlflow-artifacts:/1/abc/artifacts',
      path: 'a b/c#d.txt',
      url: 'http://127.0.0.1:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/a%20b/c%23d.txt',
    },
  ])('$name', ({ root, path, url }) => {
    expect(artifactProxyUrl('http://127.0.0.1:5000/', root, path)).toBe(url);
  });

  it.each(['../x', 'a/../../x', '/etc/passwd', ''])('rejects the path %j', (path) => {
    expect(() => artifactProxyUrl('http://h', 'mlflow-artifacts:/1/r/artifacts', path)).toThrow(/relative/);
  });

  it('refuses a root the proxy does not serve', () => {
    expect(() => artifactProxyUrl('http://h', 's3://bucket/1/r/artifacts', 'a')).toThrow(/serve-artifacts/);
  });
});

describe('tagEquals', () => {
  it.each([
    { key: 'medsynth.run_id', value: 'r1', filter: "tags.`medsynth.run_id` = 'r1'" },
    { key: 'k', value: "it's", filter: 'tags.`k` = "it\'s"' },
  ])('$key = $value', ({ key, value, filter }) => {
    expect(tagEquals(key, value)).toBe(filter);
  });

  it('rejects values it cannot quote', () => {
    expect(() => tagEquals('k', `'"`)).toThrow(/both quote/);
  });
});
