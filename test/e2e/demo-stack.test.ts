import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared.js';

/**
 * `zt4ai demo` as `npm start` runs it (the CLI composed with the runner, in its own process): it must run the
 * whole stack (KRS, four runners, the simulator's configfs-tsm responders), print every step, exit 0 on its
 * own (nothing left listening or polling), and leave no temporary files or plaintext behind.
 */
describe('the one-command demo in its own process', () => {
  it('runs the whole stack, exits 0 by itself and removes what it made', async () => {
    // A temporary directory of its own, so that other tests running meanwhile do not blur the count.
    const tmp = mkdtempSync(join(tmpdir(), 'zt4ai-demo-stack-'));
    try {
      await runDemo(tmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

/** Runs `zt4ai demo` in a child process with TMPDIR=tmp and checks its output and what it left. */
async function runDemo(tmp: string): Promise<void> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'test/enclave-runner/zt4ai-entry.ts'), 'demo'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c;
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c;
  });
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  expect(code, err.slice(0, 2000)).toBe(0);
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(out).toMatch(/13\. A confidential VM \(simulated configfs-tsm tree\) starts the enclave runner:\n(\s+✓ [\s\S]+?\n){8}/);
  expect(out).toMatch(/\n\s+model: \S.+\n/);
  expect(out).toMatch(/start-up stopped at step unseal: .*chunk 0 of ngram\.json does not authenticate/);
  expect(out).toMatch(/x-ms-sevsnpvm-is-debuggable equals false: actual true/);
  expect(out).toMatch(/x-ms-runtime\.x-zt4ai-config equals/);
  expect(out).not.toMatch(/UNEXPECTED/);
  expect(out).toMatch(/Every step ended as Zero Trust says it should/);
  // tsx keeps its compile cache in TMPDIR; everything else must be gone.
  expect(readdirSync(tmp).filter((n) => !n.startsWith('tsx-'))).toEqual([]);
  expect(readdirSync('/dev/shm').filter((n) => n.startsWith(`zt4ai-runner-${child.pid}-`))).toEqual([]);
}
