import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { kekFromFile } from '../../../keys/keystore/index.js';
import { Keystore, openSqliteStore } from '../../../keys/keystore/index.js';
import { cli } from '../../helpers/cli.js';
import { REPO_ROOT } from '../../helpers/shared.js';
import { removeTempDirs, tempDir } from './fixtures.js';
import { exportableKey, policyData } from './key-fixtures.js';

afterAll(removeTempDirs);

const ROUNDS = 4;
const WORKERS = 8;

/** `zt4ai krs serve` as its own process; resolves with its URL once it listens. */
async function serve(dataDir: string, tokenFile: string): Promise<{ child: ChildProcess; url: string }> {
  const args = ['--import', 'tsx', resolve(REPO_ROOT, 'src/cli/main.ts'), 'krs', 'serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--admin-token-file', tokenFile, '--json'];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /\{"listening":"([^"]+)"\}/.exec(out);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`krs serve exited with ${code}: ${err.slice(-2000)}`)));
  });
  return { child, url };
}

/**
 * Bursts of key creation and rotation over HTTP from several clients until the process is SIGKILLed; returns
 * every version the KRS acknowledged (HTTP 200) before dying.
 */
async function burstUntilKilled(child: ChildProcess, url: string, token: string, round: number): Promise<Array<[string, string]>> {
  const pool = new Pool(url, { connections: WORKERS });
  const acked: Array<[string, string]> = [];
  const policy = policyData(url, [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }]);
  const auth = { authorization: `Bearer ${token}` };
  let dead = false;
  let killing = false;
  const early: unknown[] = [];
  const died = new Promise<void>((ok) => child.once('exit', () => ok()));
  const send = async (path: string, body?: unknown): Promise<void> => {
    const json = body === undefined ? {} : { body: JSON.stringify(body), headers: { ...auth, 'content-type': 'application/json' } };
    const res = await pool.request({ path: `${path}?api-version=7.5`, method: 'POST', headers: auth, ...json });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${text.slice(0, 200)}`);
    const kid = (JSON.parse(text) as { key: { kid: string } }).key.kid.split('/');
    acked.push([kid.at(-2)!, kid.at(-1)!]);
  };
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; !dead; i++) {
      const name = `r${round}-w${w}-k${i}`;
      try {
        await send(`/keys/${name}/create`, exportableKey(policy));
        for (let r = 0; r < 3 && !dead; r++) await send(`/keys/${name}/rotate`);
      } catch (e) {
        // A request cut by the kill was never acknowledged: it may or may not have committed.
        if (!killing) early.push(e);
        return;
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  const armed = new Promise<void>((ok) => {
    const poll = setInterval(() => {
      if (acked.length > 0) {
        clearInterval(poll);
        ok();
      }
    }, 5);
  });
  await armed;
  await new Promise((ok) => setTimeout(ok, randomInt(100, 600)));
  killing = true;
  child.kill('SIGKILL');
  await died;
  dead = true;
  await Promise.all(workers);
  await pool.destroy();
  expect(early).toEqual([]);
  return acked;
}

describe('crash safety of the KRS process', () => {
  it('SIGKILLed during bursts of creation and rotation: every acknowledged key opens, none is corrupt, the audit log verifies', async () => {
    const dir = tempDir('krs-crash');
    const dataDir = join(dir, 'data');
    const token = randomBytes(24).toString('base64url');
    const tokenFile = join(dir, 'admin.token');
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const acked: Array<[string, string]> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { child, url } = await serve(dataDir, tokenFile);
      const got = await burstUntilKilled(child, url, token, round);
      expect(child.signalCode).toBe('SIGKILL');
      expect(got.length).toBeGreaterThan(0);
      acked.push(...got);
    }
    // The audit log of a killed process (WAL not checkpointed) verifies read-only.
    const verify = await cli(['audit', 'verify', '--data-dir', dataDir, '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.json()).toMatchObject({ ok: true });

    const store = openSqliteStore(dataDir, { readonly: true });
    try {
      const keystore = new Keystore({ storage: store.keys, kek: await kekFromFile(join(dataDir, 'kek.key')) });
      for (const [name, version] of acked) {
        const { material } = await keystore.exportForRelease(name, { version });
        expect(material).toHaveLength(32);
        material.fill(0);
      }
      const integrity = await keystore.checkIntegrity();
      expect(integrity.failures).toEqual([]);
      expect(integrity.checked).toBeGreaterThanOrEqual(acked.length);
      // Page through the log: a fast machine acknowledges more versions than one query page holds.
      let changes = 0;
      for (let after = 0; ; ) {
        const page = await store.audit.query({ kinds: ['key-created', 'key-rotated'], limit: 1000, afterSeq: after });
        changes += page.length;
        if (page.length < 1000) break;
        after = page[page.length - 1]!.seq;
      }
      expect(changes).toBe(integrity.checked);
      console.info(`[krs crash] ${ROUNDS} SIGKILLs: ${acked.length} acknowledged versions, ${integrity.checked} stored`);
    } finally {
      store.close();
    }
  }, 60_000);
});
