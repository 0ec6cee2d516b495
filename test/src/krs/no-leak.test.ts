import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openReleaseResponse } from '../../../keys/release/index.js';
import { simulatedRootsPem } from '../../../simulator/index.js';
import { buildApp } from '../../../src/krs/app.js';
import { composeKrs } from '../../../src/krs/compose.js';
import { resolveKrsConfig } from '../../../src/krs/config.js';
import { createLogger } from '../../../src/krs/logging.js';
import { ISSUER, removeTempDirs, simRoots, tempDir } from './fixtures.js';
import { KV, callApi, exportableKey, policyData, teeEvidence, teeKey } from './key-fixtures.js';

afterAll(removeTempDirs);

/** Every spelling key bytes could take in text: hex (both cases), base64, base64url, with and without padding. */
function spellings(bytes: Buffer): string[] {
  const b64 = bytes.toString('base64');
  return [bytes.toString('hex'), bytes.toString('hex').toUpperCase(), b64, b64.replace(/=+$/, ''), bytes.toString('base64url')];
}

/** The secret parts of released keys: oct bytes; for RSA the PKCS#8 DER, d, p, q and a 16-byte window of each. */
function secretsOf(material: Buffer, kty: string): string[] {
  const parts = [material, material.subarray(8, 24)];
  if (kty === 'RSA') {
    const jwk = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    for (const k of [jwk.d, jwk.p, jwk.q]) {
      const b = Buffer.from(k!, 'base64url');
      parts.push(b, b.subarray(8, 24));
    }
  }
  return parts.flatMap(spellings);
}

describe('key material never appears in logs, errors, metrics, the audit log or the database file', () => {
  it('through creates, releases, denials, bad requests and an internal failure, at trace log level', async () => {
    const dataDir = tempDir('leak');
    const token = randomBytes(24).toString('base64url');
    writeFileSync(join(dataDir, '..', 'leak-admin.token'), token, { mode: 0o600 });
    const logs: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    const config = resolveKrsConfig({ dataDir, signingKeyBits: 2048, rateLimit: false, trustSimulator: true, adminAuth: { tokenFile: join(dataDir, '..', 'leak-admin.token') } });
    const deps = await composeKrs(config, { simulatedRootsPem: [simulatedRootsPem(await simRoots())], logger: createLogger({ level: 'trace', stream }) });
    const app = await buildApp({ ...deps, issuer: ISSUER });
    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) => callApi(app, token, method, url, body);
    const seen: string[] = [];
    const record = async (p: ReturnType<typeof call>) => {
      const res = await p;
      seen.push(res.body);
      return res;
    };

    const policy = policyData(ISSUER, [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }]);
    await record(call('POST', `/keys/oct-key/create${KV}`, exportableKey(policy)));
    await record(call('POST', `/keys/rsa-key/create${KV}`, { kty: 'RSA-HSM', key_size: 2048, attributes: { exportable: true }, release_policy: { data: policy } }));
    await record(call('POST', `/keys/oct-key/rotate${KV}`));
    const tee = teeKey();
    const attest = await app.inject({ method: 'POST', url: '/attest/SevSnpVm?api-version=2022-08-01', payload: await teeEvidence({ tee }) });
    const target = attest.json<{ token: string }>().token;
    const ca = (await app.inject({ url: '/release-signer/ca' })).body;
    const secrets: string[] = [];
    for (const name of ['oct-key', 'rsa-key']) {
      for (const enc of ['CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_384']) {
        const res = await record(call('POST', `/keys/${name}/release${KV}`, { target, enc }));
        const opened = await openReleaseResponse(res.json<{ value: string }>(), { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca] });
        secrets.push(...secretsOf(opened.material, opened.kty));
      }
    }
    expect(new Set(secrets).size).toBeGreaterThan(40);

    // Failures: denied, malformed, wrong enc, bad body, and a version tampered at rest (an internal error).
    const debug = await app.inject({ method: 'POST', url: '/attest/SevSnpVm?api-version=2022-08-01', payload: await teeEvidence({ tee, guestPolicy: { debug: true } }) });
    await record(call('POST', `/keys/oct-key/release${KV}`, { target: debug.json<{ token: string }>().token }));
    await record(call('POST', `/keys/oct-key/release${KV}`, { target: 'not.a.token' }));
    await record(call('POST', `/keys/rsa-key/release${KV}`, { target, enc: 'nope' }));
    await record(call('POST', `/keys/oct-key/create${KV}`, { kty: 'oct-HSM', key_size: 9 }));
    await record(call('PATCH', `/keys/rsa-key${KV}`, { attributes: { enabled: false } }));
    const db = new Database(join(dataDir, 'keystore.db'));
    db.prepare("UPDATE key_versions SET enabled = 1 WHERE name = 'rsa-key'").run();
    db.close();
    const tampered = await record(call('POST', `/keys/rsa-key/release${KV}`, { target }));
    expect(tampered.statusCode).toBe(500);
    expect(tampered.json<{ error: { zt4aiCode: string } }>().error.zt4aiCode).toBe('ERR_KEYSTORE_CORRUPT');
    seen.push((await app.inject({ url: '/metrics' })).body);
    seen.push((await call('GET', '/audit?limit=1000')).body);
    await app.close();

    const wal = join(dataDir, 'keystore.db-wal');
    const database = readFileSync(join(dataDir, 'keystore.db')).toString('latin1') + (existsSync(wal) ? readFileSync(wal).toString('latin1') : '');
    const haystacks = { logs: logs.join(''), responses: seen.join('\n'), database };
    expect(haystacks.logs).toMatch(/"route":"\/keys\/:name\/release"/);
    expect(haystacks.logs).toMatch(/ERR_KEYSTORE_CORRUPT/);
    for (const [where, text] of Object.entries(haystacks)) {
      for (const s of secrets) expect(text.includes(s), `${where} contains key material (${s.slice(0, 12)}...)`).toBe(false);
    }
    expect(haystacks.logs).not.toContain(target.split('.')[2]);
    expect(haystacks.logs).not.toContain(token);
  });
});
