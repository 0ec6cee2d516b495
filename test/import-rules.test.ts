import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/shared.js';

const BIOME = resolve(REPO_ROOT, 'node_modules/.bin/biome');

/** Lints `source` at `path` inside a scratch tree with the project's biome.json, so no probe lands in the repo. */
function lint(path: string, source: string): { ok: boolean; output: string } {
  const root = mkdtempSync(join(tmpdir(), 'zt4ai-lint-'));
  const schema = resolve(REPO_ROOT, 'node_modules/@biomejs/biome/configuration_schema.json');
  mkdirSync(join(root, 'node_modules/@biomejs/biome'), { recursive: true });
  copyFileSync(schema, join(root, 'node_modules/@biomejs/biome/configuration_schema.json'));
  copyFileSync(resolve(REPO_ROOT, 'biome.json'), join(root, 'biome.json'));
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), source);
  const r = spawnSync(BIOME, ['lint', path], { cwd: root, encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

describe('import rules of DEVELOPERS.md are enforced by the linter', () => {
  const cases: Array<[string, string, boolean]> = [
    ['attestation/snp/probe.ts', "import { a } from '../../keys/wrap.js';", false],
    ['attestation/probe.ts', "import { a } from '../simulator/index.js';", false],
    ['attestation/probe.ts', "import { a } from '../src/cli/run.js';", false],
    ['keys/probe.ts', "import { a } from '../attestation/errors.js';", false],
    ['src/krs/probe.ts', "import { a } from '../../enclave-runner/main.js';", false],
    ['src/krs/probe.ts', "import { a } from '../../simulator/index.js';", false],
    ['enclave-runner/probe.ts', "import { a } from '../src/krs/app.js';", false],
    ['enclave-runner/probe.ts', "import { a } from '../simulator/index.js';", false],
    ['src/cli/commands/probe.ts', "import { a } from '../../../simulator/index.js';", true],
    ['src/krs/probe.ts', "import { a } from '../../attestation/errors.js';", true],
    ['simulator/probe.ts', "import { a } from '../attestation/errors.js';", true],
    ['attestation/snp/probe.ts', "import { a } from '../errors.js';", true],
  ];
  for (const [path, source, allowed] of cases) {
    it(`${path}: ${source} is ${allowed ? 'allowed' : 'refused'}`, () => {
      const r = lint(path, `${source}\nexport const b = a;\n`);
      expect(r.ok, r.output).toBe(allowed);
      if (!allowed) expect(r.output).toContain('noRestrictedImports');
    });
  }
});
