import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedRootsPem } from '../../../simulator/index.js';
import { resolveKrsConfig } from '../../../src/krs/config.js';
import { type KrsServer, startKrsServer } from '../../../src/krs/server.js';
import { cli } from '../../helpers/cli.js';
import { removeTempDirs, simRoots, tempDir } from '../krs/fixtures.js';

/** `zt4ai keys ...` (KeyClient underneath) against a KRS listening on 127.0.0.1 with a static administrator token. */
let krs: KrsServer;
let dir: string;
let tokenFile: string;
let policyFile: string;
const api = (): string[] => ['--krs', krs.url, '--admin-token-file', tokenFile];

beforeAll(async () => {
  dir = tempDir('keys-cli');
  tokenFile = join(dir, 'admin.token');
  writeFileSync(tokenFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  const config = resolveKrsConfig({ listen: '127.0.0.1:0', dataDir: join(dir, 'data'), trustSimulator: true, signingKeyBits: 2048, logLevel: 'silent', rateLimit: false, adminAuth: { tokenFile } });
  krs = await startKrsServer(config, { simulatedRootsPem: [simulatedRootsPem(await simRoots())] });
  policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify({ version: '1.0.0', anyOf: [{ authority: krs.issuer, allOf: [{ claim: 'x-ms-sevsnpvm-is-debuggable', equals: false }] }] }));
});
afterAll(async () => {
  await krs?.close();
  removeTempDirs();
});

describe('zt4ai keys', () => {
  it('create --policy makes an exportable key with that release policy; show and list see it', async () => {
    const created = await cli(['keys', 'create', 'model', ...api(), '--policy', policyFile, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const key = created.json().key as Record<string, unknown>;
    expect(key).toMatchObject({ name: 'model', kty: 'oct-HSM', enabled: true, exportable: true, releasePolicy: { immutable: false, policy: { version: '1.0.0' } } });
    expect(key.id).toBe(`${krs.url}/keys/model/${key.version}`);
    const plain = await cli(['keys', 'create', 'signing', ...api(), '--kty', 'RSA-HSM', '--size', '3072', '--ops', 'sign,verify']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^key signing version [0-9a-f]{32}\n {2}id .*\n {2}RSA-HSM, enabled, ops sign,verify\n {2}no release policy\n$/);
    const shown = await cli(['keys', 'show', 'model', ...api()]);
    expect(shown.stdout).toContain(`release policy: {"version":"1.0.0","anyOf":[{"authority":"${krs.issuer}"`);
    const list = await cli(['keys', 'list', ...api(), '--json']);
    expect((list.json().keys as Array<{ name: string }>).map((k) => k.name)).toEqual(['model', 'signing']);
  });

  it('rotate adds a version; set-policy replaces the policy, and refuses once it is immutable (exit 1, with the code)', async () => {
    const before = (await cli(['keys', 'show', 'model', ...api(), '--json'])).json().key as { version: string };
    const rotated = await cli(['keys', 'rotate', 'model', ...api(), '--json']);
    expect((rotated.json().key as { version: string }).version).not.toBe(before.version);
    const set = await cli(['keys', 'set-policy', 'model', ...api(), '--policy', policyFile, '--immutable', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect((set.json().key as { releasePolicy: { immutable: boolean } }).releasePolicy.immutable).toBe(true);
    const refused = await cli(['keys', 'set-policy', 'model', ...api(), '--policy', policyFile, '--json']);
    expect(refused.code).toBe(1);
    expect(refused.json()).toMatchObject({ ok: false, status: 400, code: 'BadParameter', zt4aiCode: 'ERR_KEYSTORE_POLICY_IMMUTABLE', message: expect.stringMatching(/^AKV\.SKR\.1020/) });
    const text = await cli(['keys', 'set-policy', 'model', ...api(), '--policy', policyFile]);
    expect(text.stderr).toMatch(/^zt4ai keys: 400 BadParameter \(ERR_KEYSTORE_POLICY_IMMUTABLE\): AKV\.SKR\.1020/);
  });

  it('delete soft-deletes; show then answers 404 (exit 1)', async () => {
    const deleted = await cli(['keys', 'delete', 'signing', ...api(), '--json']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.json()).toMatchObject({ ok: true, deleted: 'signing', recoveryId: `${krs.url}/deletedkeys/signing` });
    const gone = await cli(['keys', 'show', 'signing', ...api(), '--json']);
    expect(gone.code).toBe(1);
    expect(gone.json()).toMatchObject({ status: 404, code: 'KeyNotFound', zt4aiCode: 'ERR_KEYSTORE_NOT_FOUND' });
  });

  it('usage, credential and policy problems are exit 2', async () => {
    const badPolicy = join(dir, 'bad-policy.json');
    writeFileSync(badPolicy, JSON.stringify({ version: '1.0.0', anyOf: [{ authority: krs.issuer, allOf: [{ claim: 'x', matches: 'y' }] }] }));
    const invalid = await cli(['keys', 'create', 'x', ...api(), '--policy', badPolicy]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/ERR_POLICY_OPERATOR_UNKNOWN/);
    const wrongToken = join(dir, 'wrong.token');
    writeFileSync(wrongToken, 'definitely-not-the-admin-token', { mode: 0o600 });
    const refused = await cli(['keys', 'list', '--krs', krs.url, '--admin-token-file', wrongToken]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/401 Unauthorized \(ERR_AUTH_INVALID\)/);
    expect((await cli(['keys', 'list', '--krs', 'http://krs.example.com', '--admin-token-file', tokenFile])).code).toBe(2);
    expect((await cli(['keys', 'list', '--krs', 'not a url', '--admin-token-file', tokenFile])).code).toBe(2);
    expect((await cli(['keys', 'list', '--admin-token-file', tokenFile])).code).toBe(2);
    expect((await cli(['keys', 'list', '--krs', 'http://127.0.0.1:1', '--admin-token-file', tokenFile])).code).toBe(2);
  });
});
