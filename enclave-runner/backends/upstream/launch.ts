import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { UpstreamCommand } from '../../config/types.js';
import { RunnerError } from '../../errors.js';

/** An upstream server the runner started, and how to stop it. */
export interface LaunchedUpstream {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after a grace period. Idempotent. */
  stop(): Promise<void>;
  /** Synchronous SIGKILL for the process exit hook. */
  killSync(): void;
}

const STOP_GRACE_MS = 5_000;
const POLL_MS = 200;
const TAIL_LINES = 12;

/**
 * Starts `argv` with `{model}` and `{port}` filled in, on a free loopback port, and waits until it answers
 * GET /v1/models. Its output is kept (the last lines) only to explain a failed start: no request has been
 * served yet, so it holds no prompts. No shell is involved, so the arguments are never re-parsed.
 */
export async function launchUpstream(command: UpstreamCommand, modelPath: string, signal?: AbortSignal): Promise<LaunchedUpstream> {
  const port = await freeLoopbackPort();
  const argv = command.argv.map((a) => a.replaceAll('{model}', modelPath).replaceAll('{port}', String(port)));
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = outputTail(child);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(`could not be started: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    child.once('exit', (code, sig) => resolve(`exited (${sig ?? `code ${code}`})`));
  });
  const upstream = handle(child, `http://127.0.0.1:${port}`);
  try {
    await waitReady(upstream.url, command.startTimeoutMs, exited, signal);
  } catch (e) {
    await upstream.stop();
    const out = tail();
    throw new RunnerError('ERR_RUNNER_BACKEND', `the upstream ${argv[0]} ${(e as Error).message}${out ? `; its last output:\n${out}` : ''}`, { cause: e });
  }
  return upstream;
}

async function waitReady(url: string, timeoutMs: number, exited: Promise<string>, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone: string | null = null;
  void exited.then((why) => {
    gone = why;
  });
  while (true) {
    if (gone !== null) throw new Error(gone);
    if (signal?.aborted) throw new Error('start was cancelled');
    if (Date.now() > deadline) throw new Error(`did not answer GET /v1/models within ${timeoutMs} ms (backend.command.startTimeoutMs)`);
    const ok = await request(`${url}/v1/models`, { headersTimeout: 2_000, bodyTimeout: 2_000 }).then(
      async (r) => {
        await r.body.dump();
        return r.statusCode === 200;
      },
      () => false,
    );
    if (ok) return;
    await sleep(POLL_MS);
  }
}

function handle(child: ChildProcess, url: string): LaunchedUpstream {
  const done = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  return {
    url,
    pid: child.pid ?? -1,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await done;
      clearTimeout(timer);
    },
    killSync: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function outputTail(child: ChildProcess): () => string {
  const lines: string[] = [];
  const take = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line.slice(0, 300));
      if (lines.length > TAIL_LINES) lines.shift();
    }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  return () => lines.join('\n');
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
