import { readFileSync, writeFileSync } from 'node:fs';
import { ATTESTATION_ERROR_CODES } from '../attestation/errors.js';

/** Regenerates the error-code table in README.md from the catalogue: `npx tsx scripts/readme-codes.ts`. */
export function errorCodeTable(): string {
  const rows = Object.entries(ATTESTATION_ERROR_CODES).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`);
  return ['| code | meaning |', '|---|---|', ...rows].join('\n');
}

export function withCodeTable(readme: string): string {
  return readme.replace(/(<!-- error-codes:start -->)[\s\S]*?(<!-- error-codes:end -->)/, `$1\n${errorCodeTable()}\n$2`);
}

if (process.argv[1]?.endsWith('readme-codes.ts')) {
  writeFileSync('README.md', withCodeTable(readFileSync('README.md', 'utf8')));
}
