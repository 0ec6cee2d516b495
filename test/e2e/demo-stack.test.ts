import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneLine } from '../../src/cli/commands/demo-runner.js';
import { cli } from '../helpers/cli.js';
import { DEMO_PROMPT, DEMO_SAMPLING, demoModelDirect } from '../helpers/demo-model.js';
import { REPO_ROOT } from '../helpers/shared.js';

const ENTRY = resolve(REPO_ROOT, 'test/enclave-runner/zt4ai-entry.ts');

/**
 * `zt4ai demo` as `npm start` runs it (the CLI composed with the runner, in its own process). `--once`: it must
 * run the whole stack (KRS, five runners, the simulator's configfs-tsm responders), print every step, exit 0 on
 * its own (nothing left listening or polling), and leave no temporary files or plaintext behind. Without it, it
 * stays up serving, prints how to talk to and verify the runner, and stops cleanly on SIGINT (Ctrl-C).
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

  it('without --once stays up serving, answers, and stops cleanly on Ctrl-C', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'zt4ai-demo-stack-'));
    try {
      await runDemoStayingUp(tmp);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

/** Runs `zt4ai demo` (no --once) until it says "Press Ctrl-C", talks to and verifies the runner, then sends SIGINT. */
async function runDemoStayingUp(tmp: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'demo'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const up = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      if (out.includes('Press Ctrl-C')) resolve();
    });
    void exited.then(() => reject(new Error(`the demo exited before staying up: ${err.slice(0, 2000)}`)));
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c;
  });
  try {
    await up;
    const url = /keeps serving the demo model at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(url, out).toBeDefined();
    expect(out).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions/);
    expect(out).toMatch(/new OpenAI\(\{ baseURL: 'http:\/\/127\.0\.0\.1:\d+\/v1'/);
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'zt4ai-demo', messages: [{ role: 'user', content: 'What does the key service do?' }] }) });
    expect(res.status).toBe(200);
    // The printed verify command passes, with the demo's own release policy and simulated roots.
    const verify = /zt4ai (runner verify \S+ --sim-roots \S+ --policy \S+)/.exec(out)?.[1]?.split(' ');
    expect(verify).toBeDefined();
    const v = await cli(verify!);
    expect(v.code, v.stdout + v.stderr).toBe(0);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited, err.slice(0, 2000)).toBe(0);
  expect(out).toMatch(/Every step ended as Zero Trust says it should/);
  expect(readdirSync(tmp).filter((n) => !n.startsWith('tsx-'))).toEqual([]);
}

/** Runs `zt4ai demo` in a child process with TMPDIR=tmp and checks its output and what it left. */
async function runDemo(tmp: string): Promise<void> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'demo', '--once'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
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
  // The answer is the model's own: node-llama-cpp gives the same text for the same prompt and sampling.
  expect(out).toContain(`model: ${oneLine(await demoModelDirect(DEMO_PROMPT, DEMO_SAMPLING))}\n`);
  expect(out).toMatch(/start-up stopped at step unseal: .*chunk \d+ of model\.gguf does not authenticate/);
  expect(out).toMatch(/x-ms-sevsnpvm-is-debuggable equals false: actual true/);
  expect(out).toMatch(/x-ms-runtime\.x-zt4ai-config equals/);
  expect(out).toMatch(/20\. A runner in a guest whose launch measurement is not the pinned one[\s\S]*x-ms-sevsnpvm-launchmeasurement in/);
  expect(out).not.toMatch(/Press Ctrl-C/);
  expect(out).not.toMatch(/UNEXPECTED/);
  expect(out).toMatch(/Every step ended as Zero Trust says it should/);
  // tsx keeps its compile cache in TMPDIR; everything else must be gone.
  expect(readdirSync(tmp).filter((n) => !n.startsWith('tsx-'))).toEqual([]);
  expect(readdirSync('/dev/shm').filter((n) => n.startsWith(`zt4ai-runner-${child.pid}-`))).toEqual([]);
}
