import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AzureKeyVaultKek, type KeyWrapClient } from '../../../keys/keystore/kek-azure.js';
import { generateKekFile, kekFromEnv, kekFromFile } from '../../../keys/keystore/kek-sources.js';
import { LocalKek } from '../../../keys/keystore/kek.js';
import { Keystore } from '../../../keys/keystore/keystore.js';
import { ADMIN, POLICY, caught, openTestStore } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'zt4ai-kek-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: Buffer | string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
}

describe('KEK from a file or the environment', () => {
  const key = randomBytes(32);

  it('reads 32 raw bytes or base64 / base64url text, with the same id', async () => {
    const raw = await kekFromFile(file('raw', key, 0o600));
    const b64 = await kekFromFile(file('b64', `${key.toString('base64')}\n`, 0o400));
    const b64url = await kekFromFile(file('b64url', key.toString('base64url'), 0o600));
    expect(raw.id).toMatch(/^local:[A-Za-z0-9_-]{22}$/);
    expect(b64.id).toBe(raw.id);
    expect(b64url.id).toBe(raw.id);
    expect(raw.id).not.toContain(key.toString('base64url').slice(0, 8));
  });

  it('refuses files readable or writable by group or others, missing files and wrong lengths', async () => {
    for (const mode of [0o640, 0o604, 0o660, 0o644]) {
      expect((await caught(() => kekFromFile(file(`m${mode.toString(8)}`, key, mode)))).code).toBe('ERR_KEK_FILE_MODE');
    }
    expect((await caught(() => kekFromFile(join(dir, 'absent')))).code).toBe('ERR_KEK_SOURCE');
    expect((await caught(() => kekFromFile(file('short', randomBytes(31), 0o600)))).code).toBe('ERR_KEK_FORMAT');
    expect((await caught(() => kekFromFile(file('b64short', randomBytes(24).toString('base64'), 0o600)))).code).toBe('ERR_KEK_FORMAT');
  });

  it('reads ZT4AI_KEK (or another variable) and refuses it unset or malformed', () => {
    expect(kekFromEnv('ZT4AI_KEK', { ZT4AI_KEK: key.toString('base64') }).id).toBe(new LocalKek(key).id);
    expect(kekFromEnv('MY_KEK', { MY_KEK: key.toString('base64url') }).id).toBe(new LocalKek(key).id);
    expect(() => kekFromEnv('ZT4AI_KEK', {})).toThrow(expect.objectContaining({ code: 'ERR_KEK_SOURCE' }));
    expect(() => kekFromEnv('ZT4AI_KEK', { ZT4AI_KEK: 'abc' })).toThrow(expect.objectContaining({ code: 'ERR_KEK_FORMAT' }));
  });

  it('generates a 0600 KEK file and never overwrites one', async () => {
    const path = join(dir, 'generated.kek');
    await generateKekFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')).toHaveLength(32);
    const before = readFileSync(path);
    expect((await caught(() => generateKekFile(path))).code).toBe('ERR_KEK_SOURCE');
    expect(readFileSync(path).equals(before)).toBe(true);
    await kekFromFile(path);
  });

  it('binds a wrapped DEK to its context and refuses another KEK', async () => {
    const kek = new LocalKek(key);
    const dek = randomBytes(32);
    const w = await kek.wrap(dek, Buffer.from('a'));
    expect((await kek.unwrap(w, Buffer.from('a'))).equals(dek)).toBe(true);
    expect((await caught(() => kek.unwrap(w, Buffer.from('b')))).code).toBe('ERR_KEK_UNWRAP');
    expect((await caught(() => new LocalKek(randomBytes(32)).unwrap(w, Buffer.from('a')))).code).toBe('ERR_KEK_MISMATCH');
  });
});

/** An in-process stand-in for Key Vault's CryptographyClient: RSA-OAEP-256 under a local RSA key per key version. */
class FakeVault {
  readonly calls: string[] = [];
  readonly keys = new Map<string, ReturnType<typeof generateKeyPairSync>>();
  current = 'v1';
  down = false;

  constructor(readonly base: string) {
    this.rotate('v1');
  }

  rotate(version: string): void {
    this.current = version;
    this.keys.set(version, generateKeyPairSync('rsa', { modulusLength: 2048 }));
  }

  client(keyId: string): KeyWrapClient {
    const version = keyId.startsWith(`${this.base}/`) ? keyId.slice(this.base.length + 1) : this.current;
    return {
      wrapKey: async (algorithm, plain) => {
        this.calls.push(`wrap ${algorithm} ${keyId}`);
        if (this.down) throw Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' });
        const v = keyId === this.base ? this.current : version;
        const pair = this.keys.get(v)!;
        return { result: publicEncrypt({ key: pair.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plain), keyID: `${this.base}/${v}` };
      },
      unwrapKey: async (algorithm, wrapped) => {
        this.calls.push(`unwrap ${algorithm} ${keyId}`);
        if (this.down) throw Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' });
        return { result: privateDecrypt({ key: this.keys.get(version)!.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped) };
      },
    };
  }
}

describe('KEK in Azure Key Vault (CryptographyClient wrapKey/unwrapKey, RSA-OAEP-256)', () => {
  const base = 'https://vault.example.net/keys/zt4ai-kek';

  it('wraps remotely, records the versioned key id, and keeps old DEKs unwrappable after a vault key rotation', async () => {
    const vault = new FakeVault(base);
    const kek = new AzureKeyVaultKek(base, (id) => vault.client(id));
    const t = openTestStore({ keystore: { kek } });
    try {
      const v1 = await t.keystore.create('k', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
      const row = t.store.database.prepare('SELECT kek_id FROM key_versions').get() as { kek_id: string };
      expect(row.kek_id).toBe(`azure-kv:${base}/v1`);
      vault.rotate('v2');
      await t.keystore.rotate('k', ADMIN);
      const first = await t.keystore.exportForRelease('k', { version: v1.version });
      const second = await t.keystore.exportForRelease('k');
      expect(first.material).toHaveLength(32);
      expect(second.material.equals(first.material)).toBe(false);
      expect(vault.calls).toContain(`unwrap RSA-OAEP-256 ${base}/v1`);
      expect(vault.calls).toContain(`unwrap RSA-OAEP-256 ${base}/v2`);
      vault.down = true;
      const e = await caught(() => t.keystore.exportForRelease('k'));
      expect(e).toMatchObject({ code: 'ERR_KEK_REMOTE', message: expect.stringContaining('ECONNREFUSED') });
    } finally {
      t.close();
    }
  });

  it('refuses key ids that are not Key Vault key URLs and DEKs of another vault key', async () => {
    expect(() => new AzureKeyVaultKek('http://vault/keys/k', () => new FakeVault(base).client(base))).toThrow(expect.objectContaining({ code: 'ERR_KEK_SOURCE' }));
    const kek = new AzureKeyVaultKek(base, (id) => new FakeVault(base).client(id));
    expect(kek.handles(`azure-kv:${base}/abc`)).toBe(true);
    expect(kek.handles('azure-kv:https://vault.example.net/keys/other/abc')).toBe(false);
    expect((await caught(() => kek.unwrap({ kekId: 'local:x', wrapped: Buffer.alloc(1) }, Buffer.alloc(0)))).code).toBe('ERR_KEK_MISMATCH');
  });

  it('moves every DEK from a retired local KEK to the Azure KEK (rewrapDeks)', async () => {
    const t = openTestStore();
    try {
      await t.keystore.create('a', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
      await t.keystore.create('b', { kty: 'RSA', exportable: true, releasePolicy: POLICY }, ADMIN);
      const before = (await t.keystore.exportForRelease('a')).material;
      const vault = new FakeVault(base);
      const moved = new Keystore({ storage: t.store.keys, kek: new AzureKeyVaultKek(base, (id) => vault.client(id)), retiredKeks: [t.kek] });
      expect(await moved.rewrapDeks(ADMIN)).toBe(2);
      expect(await moved.rewrapDeks(ADMIN)).toBe(0);
      const azureOnly = new Keystore({ storage: t.store.keys, kek: new AzureKeyVaultKek(base, (id) => vault.client(id)) });
      expect((await azureOnly.exportForRelease('a')).material.equals(before)).toBe(true);
      expect(await azureOnly.checkIntegrity()).toEqual({ checked: 2, failures: [] });
      expect((await caught(() => t.keystore.exportForRelease('a'))).code).toBe('ERR_KEK_MISMATCH');
    } finally {
      t.close();
    }
  });
});
