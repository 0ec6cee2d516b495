import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { toKeyBundle } from '../../../keys/keystore/key-vault-json.js';
import { toKeyVaultError } from '../../../keys/keystore/key-vault-errors.js';
import { KeystoreError } from '../../../keys/keystore/errors.js';
import { LocalKek } from '../../../keys/keystore/kek.js';
import { Keystore } from '../../../keys/keystore/keystore.js';
import { buildReleaseResponse } from '../../../keys/release/build-response.js';
import { openReleaseResponse } from '../../../keys/release/open-response.js';
import { createReleaseSigner } from '../../../keys/release/signer.js';
import { unwrapKeyHsm, wrapForRelease } from '../../../keys/wrap/key-hsm.js';
import { ADMIN, BASE_URL, OTHER_POLICY, POLICY, type TestStore, openTestStore } from './fixtures.js';

/** Every text form of a secret that could end up in a message: hex, base64, base64url, and a middle slice of each. */
function needles(secret: Buffer): string[] {
  const forms = [secret.toString('hex'), secret.toString('base64'), secret.toString('base64url')];
  return [...forms, ...forms.map((f) => f.slice(8, 40))];
}

describe('key material never appears in errors, logs or the database file', () => {
  let t: TestStore;
  const secrets: Buffer[] = [];
  const texts: string[] = [];
  const logged: string[] = [];

  /** Runs `fn`, keeping every text form of what it throws, including causes and the Key Vault answer. */
  async function provoke(fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (e) {
      texts.push(String(e), JSON.stringify(e), inspect(e, { depth: 6 }), (e as Error).stack ?? '');
      if (e instanceof KeystoreError) texts.push(JSON.stringify(toKeyVaultError(e)));
      return;
    }
    throw new Error('expected an error');
  }

  beforeAll(async () => {
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map((a) => inspect(a)).join(' ')));
    }
    t = openTestStore();
    secrets.push(t.kekBytes);
    await t.keystore.create('oct', { kty: 'oct-HSM', exportable: true, releasePolicy: POLICY }, ADMIN);
    await t.keystore.create('rsa', { kty: 'RSA-HSM', exportable: true, releasePolicy: { ...POLICY, immutable: true } }, ADMIN);
    const oct = await t.keystore.exportForRelease('oct');
    const rsa = await t.keystore.exportForRelease('rsa');
    const d = createPrivateKey({ key: rsa.material, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!;
    secrets.push(oct.material, Buffer.from(d, 'base64url'));

    const tee = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { n, e } = tee.publicKey.export({ format: 'jwk' });
    const teeJwk = { kty: 'RSA', kid: 'tee', n: n!, e: e! };
    const signer = await createReleaseSigner();
    const keyHsm = wrapForRelease(oct.material, teeJwk);

    await provoke(() => t.keystore.create('oct', { kty: 'oct-HSM', exportable: true, releasePolicy: OTHER_POLICY, keySize: 100 }, ADMIN));
    await provoke(() => t.keystore.setReleasePolicy('rsa', OTHER_POLICY, ADMIN));
    await provoke(() => new Keystore({ storage: t.store.keys, kek: new LocalKek(Buffer.alloc(32, 1)) }).exportForRelease('oct'));
    await provoke(() => t.audit.append({ kind: 'release-allowed', actor: 'x', details: { k: oct.material.toString('base64url') } }));
    await provoke(() => t.audit.append({ kind: 'release-allowed', actor: 'x', details: { note: `${'a'.repeat(17000)}${oct.material.toString('hex')}` } }));
    await provoke(() => wrapForRelease(oct.material, { ...teeJwk, kid: '' }));
    await provoke(() => wrapForRelease(oct.material, { ...teeJwk, key_ops: ['sign'] }));
    await provoke(() => unwrapKeyHsm(keyHsm, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey));
    const response = await buildReleaseResponse({ signer, bundle: toKeyBundle(oct.key, BASE_URL), material: oct.material, teeKey: teeJwk, request: { apiVersion: '7.6' } });
    await provoke(() => openReleaseResponse(response, { pinnedCertificates: ['00'.repeat(32)], teePrivateKey: tee.privateKey, teePublicJwk: teeJwk }));
    await provoke(() => openReleaseResponse(response, { pinnedCertificates: [signer.kid], teePrivateKey: tee.privateKey, teePublicJwk: { ...teeJwk, kid: 'other' } }));
    const tampered = t.store.database.prepare("SELECT ciphertext FROM key_versions WHERE name = 'oct'").get() as { ciphertext: Buffer };
    tampered.ciphertext[3]! ^= 0xff;
    t.store.database.prepare("UPDATE key_versions SET ciphertext = ? WHERE name = 'oct'").run(tampered.ciphertext);
    await provoke(() => t.keystore.exportForRelease('oct'));
    await t.keystore.setEnabled('rsa', false, ADMIN);
    await provoke(() => t.keystore.exportForRelease('rsa'));
    texts.push(JSON.stringify(await t.audit.tail(1000)), JSON.stringify(await t.keystore.checkIntegrity()));
    texts.push(JSON.stringify(await t.keystore.list()), JSON.stringify((await t.keystore.list()).map((k) => toKeyBundle(k, BASE_URL))));
  });
  afterAll(() => {
    vi.restoreAllMocks();
    t.close();
  });

  it('provoked errors of every part', () => {
    expect(texts.length).toBeGreaterThan(40);
    expect(texts.join('\n')).toMatch(/ERR_KEYSTORE_KEY_TYPE[\s\S]*ERR_KEYSTORE_POLICY_IMMUTABLE[\s\S]*ERR_KEK_MISMATCH[\s\S]*ERR_AUDIT_DETAILS[\s\S]*ERR_WRAP_TEE_KEY[\s\S]*ERR_WRAP_DECRYPT[\s\S]*ERR_RELEASE_UNTRUSTED[\s\S]*ERR_RELEASE_BINDING[\s\S]*ERR_KEYSTORE_CORRUPT[\s\S]*ERR_KEYSTORE_DISABLED/);
  });

  it('no error text, JSON, stack, cause, Key Vault answer, audit entry or listing holds a secret', () => {
    const all = texts.join('\n');
    // The search itself finds a planted leak in any of the encodings.
    for (const form of ['hex', 'base64', 'base64url'] as const) expect(needles(secrets[1]!).some((n) => `x${secrets[1]!.toString(form)}x`.includes(n))).toBe(true);
    for (const secret of secrets) for (const needle of needles(secret)) expect(all.includes(needle), `found ${needle.slice(0, 6)}…`).toBe(false);
  });

  it('nothing was logged', () => {
    expect(logged).toEqual([]);
  });

  it('the database files hold no plaintext key material', () => {
    const files = readdirSync(t.dir).filter((f) => f.startsWith('keystore.db'));
    expect(files).toContain('keystore.db');
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(t.dir, f))));
    for (const secret of secrets) {
      expect(bytes.includes(secret.subarray(0, 16))).toBe(false);
      for (const needle of needles(secret)) expect(bytes.includes(Buffer.from(needle))).toBe(false);
    }
  });
});
