import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withCodeTables } from '../scripts/readme-codes.js';
import { REPO_ROOT } from './helpers/shared.js';

describe('README', () => {
  const readme = readFileSync(resolve(REPO_ROOT, 'README.md'), 'utf8');
  it('keeps exactly the two set-up commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
  it('lists every error code exactly as the catalogues say (regenerate with npx tsx scripts/readme-codes.ts)', () => {
    expect(readme).toBe(withCodeTables(readme));
  });
});
