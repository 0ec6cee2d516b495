import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchRunner } from '../../enclave-runner/runner.js';
import { sseEvents } from '../enclave-runner/api-app.js';
import { simulatedRootsPem } from '../../simulator/index.js';
import { type Stack, roots, startStack } from '../enclave-runner/stack.js';
import { cli } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/shared.js';

/**
 * The runner as users run it: `zt4ai runner start` in its own process, in front of a local OpenAI-compatible
 * upstream (openai-proxy: the model plaintext sits in tmpfs for it), reached with an OpenAI-style streaming
 * client; then stopped by SIGTERM, SIGINT, or killed, and the plaintext must be gone.
 */
const ENTRY = resolve(REPO_ROOT, 'test/enclave-runner/zt4ai-entry.ts');
let upstream: Server;
let upstreamUrl = '';
let stack: Stack;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ id: 'upstream-model' }] }));
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of ['The ', 'sealed ', 'model ', 'answers ', 'from ', 'inside ', 'the ', 'TEE.']) res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: piece } }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  stack = await startStack({ pinOverrides: proxy('/dev/shm/unused') });
});
afterAll(async () => {
  await stack?.close();
  await new Promise((r) => upstream?.close(r));
});

function proxy(plaintextDir: string): Record<string, unknown> {
  return { backend: { kind: 'openai-proxy', url: upstreamUrl }, sealedModel: { path: 'sealed', plaintextDir }, logLevel: 'warn' };
}

interface Child {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Starts `zt4ai runner start` and waits for "listening on <url>". */
async function startChild(plaintextDir: string): Promise<Child> {
  const file = join(stack.dir, `runner-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(stack.configJson(proxy(plaintextDir))));
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'runner', 'start', '--config', file], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" within 30 s; stderr: ${err.slice(0, 2000)}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = /listening on (\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    void exit.then(({ code }) => reject(new Error(`the runner exited (${code}) before listening; stderr: ${err.slice(0, 2000)}`)));
  });
  return { child, url, exit, stderr: () => err };
}

describe('zt4ai runner start in its own process', () => {
  it('serves a streaming chat to an OpenAI-style client, passes runner verify, and leaves nothing behind on SIGTERM', async () => {
    const plaintextDir = `/dev/shm/zt4ai-e2e-${process.pid}-term`;
    const run = await startChild(plaintextDir);
    // The plaintext lives in tmpfs for the upstream, private to the runner.
    expect(statSync(plaintextDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(plaintextDir, 'ngram.json')).mode & 0o777).toBe(0o600);
    const simRoots = join(stack.dir, 'sim-roots.pem');
    writeFileSync(simRoots, simulatedRootsPem(await roots()));
    expect((await cli(['runner', 'verify', '--url', run.url, '--sim-roots', simRoots])).code).toBe(0);
    const res = await fetch(`${run.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ model: 'zt4ai-model', messages: [{ role: 'user', content: 'Where do you run?' }], stream: true }),
    });
    const events = await sseEvents(res);
    expect(events.at(-1)).toBe('[DONE]');
    const text = (events.slice(0, -1) as Array<{ choices: Array<{ delta?: { content?: string } }> }>).map((e) => e.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe('The sealed model answers from inside the TEE.');
    run.child.kill('SIGTERM');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(existsSync(plaintextDir)).toBe(false);
    expect(run.stderr()).not.toMatch(/Where do you run|sealed model answers/);
  });

  it('stops as cleanly on SIGINT (Ctrl-C)', async () => {
    const plaintextDir = `/dev/shm/zt4ai-e2e-${process.pid}-int`;
    const run = await startChild(plaintextDir);
    expect(readdirSync(plaintextDir)).toContain('ngram.json');
    run.child.kill('SIGINT');
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(existsSync(plaintextDir)).toBe(false);
  });

  it('a killed runner cannot clean up; the next start removes its leftovers before unsealing', async () => {
    const plaintextDir = `/dev/shm/zt4ai-e2e-${process.pid}-kill`;
    const run = await startChild(plaintextDir);
    run.child.kill('SIGKILL');
    expect((await run.exit).signal).toBe('SIGKILL');
    expect(readdirSync(plaintextDir)).toContain('ngram.json');
    const next = await launchRunner(await stack.config(proxy(plaintextDir)));
    await next.ready;
    await next.stop();
    expect(existsSync(plaintextDir)).toBe(false);
  });
});
