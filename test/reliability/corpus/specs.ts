// Bad experiment specs through the real CLI (`medsynth validate GOOD BAD`, a child process): the
// good spec is ok on stdout, the bad one is named on stderr with its field and reason, the exit
// code is 1 and nothing prints a stack trace.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../../services/paths.ts';
import { attempt, verdict } from './case.ts';
import type { BadInputCase } from './case.ts';

const GOOD = 'name: reliability-good\ndataset:\n  format: class-folders\n  path: ./data\n';

const specVariants: Array<{ name: string; file: string; text?: string; says: RegExp }> = [
  { name: 'a YAML syntax error', file: 'syntax.yaml', text: 'name: [reliability\ndataset: {format: class-folders\n', says: /not valid YAML or JSON: .*line \d+/ },
  { name: 'an unknown field', file: 'unknown.yaml', text: `${GOOD}learningrate: 0.001\n`, says: /learningrate: unknown key/ },
  { name: 'an unknown nested field', file: 'nested.yaml', text: `${GOOD}  maxpixels: 10\n`, says: /dataset\.maxpixels: unknown key/ },
  { name: 'a field of the wrong type', file: 'type.yaml', text: `${GOOD}  maxPixels: lots\n`, says: /dataset\.maxPixels: .*expected number/ },
  { name: 'a value outside its enum', file: 'enum.yaml', text: GOOD.replace('class-folders', 'folders'), says: /dataset\.format: .*class-folders/ },
  { name: 'a spec path that does not exist', file: 'no-such-spec.yaml', says: /no-such-spec\.yaml: cannot read spec \(ENOENT\)/ },
  { name: 'a list instead of a mapping', file: 'list.yaml', text: '- name: a\n- name: b\n', says: /\(top level\): .*expected object/ },
  { name: 'a duplicate key', file: 'duplicate.yaml', text: `${GOOD}name: again\n`, says: /not valid YAML or JSON: .*unique/ },
  { name: 'an empty file', file: 'empty.yaml', text: '', says: /\(top level\): .*expected object/ },
  { name: 'a JSON spec cut short', file: 'cut.json', text: '{"name": "x", "dataset": {"format": "class-folders"', says: /not valid YAML or JSON/ },
];

const run = promisify(execFile);

async function validate(files: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [path.join(projectRoot, 'bin', 'medsynth.mjs'), 'validate', ...files], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

export async function specCases(dir: string): Promise<BadInputCase[]> {
  const root = path.join(dir, 'specs');
  await mkdir(root, { recursive: true });
  const good = path.join(root, 'good.yaml');
  await writeFile(good, GOOD);
  return Promise.all(
    specVariants.map((v) =>
      attempt('spec', v.name, async () => {
        const file = path.join(root, v.file);
        if (v.text !== undefined) await writeFile(file, v.text);
        const out = await validate([good, file]);
        const problems: string[] = [];
        if (out.code !== 1) problems.push(`exit code ${out.code}, expected 1`);
        if (!out.stdout.includes(`ok       ${good}`)) problems.push(`the good spec beside it was not validated: ${JSON.stringify(out.stdout)}`);
        if (!out.stderr.includes(file)) problems.push('stderr does not name the spec file');
        if (!v.says.test(out.stderr)) problems.push(`stderr does not say ${v.says}`);
        if (/^\s+at .*\(?[\w/.-]+:\d+:\d+\)?$/m.test(out.stderr) || /internal error/i.test(out.stderr)) problems.push('a stack trace or internal error on stderr');
        const lines = out.stderr.trim().split('\n');
        if (lines.length > 4) problems.push(`${lines.length} lines on stderr for one problem`);
        return verdict('spec', v.name, problems, out.stderr.trim());
      }),
    ),
  );
}
