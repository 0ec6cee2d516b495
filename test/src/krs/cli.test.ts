import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { KrsServer } from '../../../src/krs/server.js';
import { SigningKeyStore } from '../../../src/krs/signing-keys.js';
import { REPO_ROOT } from '../../helpers/shared.js';
import { simulatedRootsPem } from '../../../simulator/index.js';
import { DEFAULT_SIM_SEED } from '../../../src/cli/commands/krs.js';
import { TEST_SEED, removeTempDirs, simRoots, simulatedRequest, tempDir } from './fixtures.js';
import { type KrsCliRun, runKrsCli } from './krs-cli.js';

afterAll(removeTempDirs);

/** Starts `krs serve` in-process; resolves once it listens, with a stop function and the finished run. */
async function serve(args: string[]): Promise<{ server: KrsServer; stop: () => Promise<KrsCliRun> }> {
  const controller = new AbortController();
  let listening!: (server: KrsServer) => void;
  const ready = new Promise<KrsServer>((r) => {
    listening = r;
  });
  const run = runKrsCli(['krs', 'serve', ...args], { stop: controller.signal, onListening: listening });
  const server = await Promise.race([ready, run.then((r) => Promise.reject(new Error(`serve ended early: ${r.code} ${r.stderr}`)))]);
  return {
    server,
    stop: async () => {
      controller.abort();
      return run;
    },
  };
}

describe('zt4ai krs serve', () => {
  it('prints exactly one "listening on <url>" line, answers /healthz over a real socket, and stops cleanly', async () => {
    const dataDir = tempDir();
    const { server, stop } = await serve(['--listen', '127.0.0.1:0', '--data-dir', dataDir, '--token-lifetime', '60']);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await request(`${server.url}/healthz`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ status: 'ok' });
    const oidc = (await (await request(`${server.url}/.well-known/openid-configuration`)).body.json()) as { issuer: string; jwks_uri: string };
    expect(oidc).toMatchObject({ issuer: server.url, jwks_uri: `${server.url}/certs` });
    // Simulated evidence is diagnosed, not trusted, without --trust-simulator.
    const simulated = await request(`${server.url}/attest/SevSnpVm?api-version=2022-08-01`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await simulatedRequest({ seed: DEFAULT_SIM_SEED })),
    });
    expect(simulated.statusCode).toBe(403);
    expect(((await simulated.body.json()) as { error: { code: string } }).error.code).toBe('ERR_SIMULATED_NOT_TRUSTED');
    const run = await stop();
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`listening on ${server.url}\n`);
    await expect(request(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('--json prints one JSON line; --trust-simulator warns loudly and trusts the default-seed and --sim-roots roots; a config file is read and flags win', async () => {
    const dir = tempDir();
    const config = join(dir, 'krs.json');
    writeFileSync(config, JSON.stringify({ listen: '127.0.0.1:1', dataDir: 'data', issuer: 'https://krs.example.com', signingKeyBits: 2048 }));
    writeFileSync(join(dir, 'roots.pem'), simulatedRootsPem(await simRoots()));
    const { server, stop } = await serve(['--config', config, '--listen', '127.0.0.1:0', '--trust-simulator', '--sim-roots', join(dir, 'roots.pem'), '--json']);
    expect(server.issuer).toBe('https://krs.example.com');
    // Evidence as `zt4ai sim report --seed zt4ai` makes it, and evidence under the --sim-roots bundle.
    for (const seed of [DEFAULT_SIM_SEED, TEST_SEED]) {
      const res = await request(`${server.url}/attest/SevSnpVm?api-version=2022-08-01`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(await simulatedRequest({ seed })),
      });
      expect(res.statusCode, seed).toBe(200);
      await res.body.dump();
    }
    const run = await stop();
    expect(run.stdout).toBe(`${JSON.stringify({ listening: server.url })}\n`);
    expect(run.stderr).toMatch(/WARNING: --trust-simulator/);
    expect(run.stderr).toMatch(/TRUSTING SIMULATED AMD ROOTS/);
    expect(await SigningKeyStore.open(join(dir, 'data'), { keyBits: 2048 })).toBeDefined();
  });

  it('refuses a non-loopback plain-HTTP listen address with exit 2 and a message that explains', async () => {
    const r = await runKrsCli(['krs', 'serve', '--listen', '0.0.0.0:0', '--data-dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/refusing to serve plain HTTP on 0\.0\.0\.0/);
    expect(r.stderr).toMatch(/TLS/);
  });

  it('other usage errors are exit 2: half a TLS pair, a bad lifetime, an unreadable config', async () => {
    for (const args of [['--tls-cert', 'c.pem'], ['--token-lifetime', 'soon'], ['--config', '/nonexistent/krs.json']]) {
      const r = await runKrsCli(['krs', 'serve', '--listen', '127.0.0.1:0', '--data-dir', tempDir(), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });

  it('stops on SIGTERM when run as a process', async () => {
    const dataDir = tempDir();
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'src/cli/main.ts'), 'krs', 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString('utf8');
          const m = /^listening on (\S+)\n/.exec(out);
          if (m) ok(m[1]!);
        });
        child.once('exit', (code) => fail(new Error(`exited early with ${code}`)));
      });
      expect((await request(`${url}/healthz`)).statusCode).toBe(200);
      const exit = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

describe('zt4ai krs rotate-signing-key', () => {
  it('adds a new active key and keeps the previous one published', async () => {
    const dataDir = tempDir();
    const store = await SigningKeyStore.open(dataDir, { keyBits: 2048 });
    const before = (await store.active()).kid;
    const r = await runKrsCli(['krs', 'rotate-signing-key', '--data-dir', dataDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { kid: string; published: string[]; overlapSeconds: number };
    expect(out.published).toEqual([out.kid, before]);
    expect(out.overlapSeconds).toBe(600);
    const text = await runKrsCli(['krs', 'rotate-signing-key', '--data-dir', dataDir, '--retire-previous']);
    expect(text.stdout).toMatch(/^new active signing key \S+\npublished: \S+\nremoved: /);
  });

  it('a data directory without keys is exit 2', async () => {
    const r = await runKrsCli(['krs', 'rotate-signing-key', '--data-dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no signing key file/);
  });
});
