import { readFileSync, writeFileSync } from 'node:fs';
import { ATTESTATION_ERROR_CODES } from '../attestation/errors.js';
import { POLICY_ERROR_CODES } from '../attestation/policy/errors.js';
import { KEY_ERROR_CODES } from '../keys/errors.js';
import { KEYSTORE_ERROR_CODES } from '../keys/keystore/errors.js';
import { RUNNER_ERROR_CODES } from '../enclave-runner/errors.js';
import { KRS_ERROR_CODES } from '../src/krs/errors.js';

/** Each README code table, by its marker name, generated from the catalogue that owns the codes. */
type Entry = string | { readonly status: number; readonly message: string };
const CATALOGUES: Record<string, Record<string, Entry>> = {
  'error-codes': ATTESTATION_ERROR_CODES,
  'policy-codes': POLICY_ERROR_CODES,
  'krs-codes': KRS_ERROR_CODES,
  'keystore-codes': KEYSTORE_ERROR_CODES,
  'model-codes': KEY_ERROR_CODES,
  'runner-codes': RUNNER_ERROR_CODES,
};

const cell = (text: string): string => text.replaceAll('|', '\\|');

function table(catalogue: Record<string, Entry>): string {
  const withStatus = Object.values(catalogue).some((e) => typeof e !== 'string');
  const rows = Object.entries(catalogue).map(([code, e]) =>
    typeof e === 'string' ? `| \`${code}\` | ${cell(e)} |` : `| \`${code}\` | ${e.status} | ${cell(e.message)} |`,
  );
  const head = withStatus ? ['| code | HTTP | meaning |', '|---|---|---|'] : ['| code | meaning |', '|---|---|'];
  return [...head, ...rows].join('\n');
}

/** The README with every code table regenerated: `npx tsx scripts/readme-codes.ts`. */
export function withCodeTables(readme: string): string {
  let out = readme;
  for (const [name, catalogue] of Object.entries(CATALOGUES)) {
    const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
    if (!re.test(out)) throw new Error(`README.md lacks the <!-- ${name}:start/end --> markers`);
    out = out.replace(re, `$1\n${table(catalogue)}\n$2`);
  }
  return out;
}

if (process.argv[1]?.endsWith('readme-codes.ts')) {
  writeFileSync('README.md', withCodeTables(readFileSync('README.md', 'utf8')));
}
