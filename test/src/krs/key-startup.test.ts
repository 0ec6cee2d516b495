import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveKrsConfig } from '../../../src/krs/config.js';
import { removeTempDirs, tempDir, testApp } from './fixtures.js';
import { KV, keyApp } from './key-fixtures.js';
import { runKrsCli } from './krs-cli.js';

afterAll(removeTempDirs);

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('key-release settings', () => {
  it('validates kek, adminAuth and trustedIssuers, naming the bad setting', () => {
    const ok = resolveKrsConfig({ kek: { file: 'kek.bin' }, adminAuth: { tokenFile: 't', jwt: { issuer: 'https://login.example/t1' } }, trustedIssuers: ['https://maa.example/'] }, '/base');
    expect(ok.kek).toEqual({ file: '/base/kek.bin' });
    expect(ok.adminAuth).toEqual({ tokenFile: '/base/t', resource: 'api://zt4ai-krs', authority: null, jwt: { issuer: 'https://login.example/t1', audience: 'api://zt4ai-krs', jwksFile: null, rolesClaim: 'roles' } });
    expect(ok.trustedIssuers).toEqual([{ issuer: 'https://maa.example', cacheSeconds: 3600 }]);
    expect(ok).toMatchObject({ denialDetails: true, auditCheckpointEvery: 100 });
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ kek: { file: 'a', env: 'B' } }, /kek needs exactly one/],
      [{ kek: { azureKeyId: 'https://vault/secrets/x' } }, /kek.azureKeyId/],
      [{ adminAuth: { tokenfile: 'x' } }, /unknown setting "adminAuth.tokenfile"/],
      [{ adminAuth: { resource: 'has space' } }, /adminAuth.resource/],
      [{ trustedIssuers: ['http://maa.example.com'] }, /must be https/],
      [{ trustedIssuers: 'https://maa.example' }, /trustedIssuers must be a list/],
      [{ denialDetails: 'no' }, /denialDetails must be true or false/],
    ];
    for (const [input, message] of bad) expect(() => resolveKrsConfig(input), JSON.stringify(input)).toThrow(message);
  });
});

describe('key-release start-up', () => {
  it('generates a 0600 KEK, checkpoint key and release signer on first start, says so, and reuses them after', async () => {
    const krs = await keyApp();
    const files = ['kek.key', 'audit-checkpoint.key', 'release-ca.pem', 'release-signer.pem', 'keystore.db'];
    for (const f of files) expect(mode(join(krs.dataDir, f)), f).toBe(0o600);
    expect(krs.logs.join('')).toMatch(/generated a key-encryption key in the data directory; in production/);
    const kek = readFileSync(join(krs.dataDir, 'kek.key'));
    const chain = (await krs.app.inject({ url: '/release-signer' })).body;
    expect(chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    await krs.call('POST', `/keys/k/create${KV}`, { kty: 'oct' });
    await krs.close();
    const again = await keyApp({ dataDir: krs.dataDir });
    try {
      expect(readFileSync(join(krs.dataDir, 'kek.key'))).toEqual(kek);
      expect((await again.app.inject({ url: '/release-signer' })).body).toBe(chain);
      expect((await again.call('GET', `/keys/k${KV}`)).statusCode).toBe(200);
      expect(again.logs.join('')).not.toMatch(/generated a key-encryption key/);
    } finally {
      await again.close();
    }
  });

  it('refuses to start when the store holds keys and its generated KEK is gone (never silently replaced)', async () => {
    const krs = await keyApp();
    await krs.call('POST', `/keys/k/create${KV}`, { kty: 'oct' });
    await krs.close();
    rmSync(join(krs.dataDir, 'kek.key'));
    await expect(testApp({ dataDir: krs.dataDir })).rejects.toMatchObject({ code: 'ERR_KEYSTORE', message: expect.stringMatching(/holds keys but its key-encryption key .* is missing/) });
    expect(existsSync(join(krs.dataDir, 'kek.key'))).toBe(false);
  });

  it('krs serve --kek-file and --admin-token-file: private files only (exit 2 otherwise)', async () => {
    const dir = tempDir('serve-files');
    const kek = join(dir, 'kek');
    writeFileSync(kek, randomBytes(32).toString('base64'), { mode: 0o644 });
    const token = join(dir, 'token');
    writeFileSync(token, randomBytes(24).toString('base64url'), { mode: 0o600 });
    const loose = await runKrsCli(['krs', 'serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'a'), '--kek-file', kek]);
    expect(loose.code).toBe(2);
    expect(loose.stderr).toMatch(/chmod 600 it \[ERR_KEK_FILE_MODE\] \[ERR_KEYSTORE\]/);
    chmodSync(kek, 0o600);
    chmodSync(token, 0o640);
    const tokenLoose = await runKrsCli(['krs', 'serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'b'), '--kek-file', kek, '--admin-token-file', token]);
    expect(tokenLoose.code).toBe(2);
    expect(tokenLoose.stderr).toMatch(/readable by group or others.*\[ERR_ADMIN_AUTH\]/);
    writeFileSync(join(dir, 'short'), 'short', { mode: 0o600 });
    const short = await runKrsCli(['krs', 'serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'c'), '--kek-file', kek, '--admin-token-file', join(dir, 'short')]);
    expect(short.stderr).toMatch(/at least 16 printable characters/);
  });
});
