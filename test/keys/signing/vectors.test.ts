import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type VerifyTrust, verifyModel } from '../../../keys/signing/verify.js';
import { HAS_MS_VECTORS, cleanupTemp, copyVector, ecKeyPair, msFile, msText } from '../fixtures.js';
import { KU, issue } from '../pki.js';

const codes = (v: { errors: readonly { code: string }[] }) => v.errors.map((e) => e.code).sort();
const sig = (dir: string) => readFileSync(join(dir, 'model.sig'));
const keyTrust = (): VerifyTrust => ({ mode: 'key', publicKeys: [msText('keys/signing-key-pub.pem')] });
const caTrust = (): VerifyTrust => ({ mode: 'certificate', trustedCAs: [msText('keys/ca-cert.pem')] });
const sigstoreTrust = (identity = 'stefanb@us.ibm.com', issuer = 'https://sigstore.verify.ibm.com/oauth2'): VerifyTrust => ({
  mode: 'sigstore',
  trustedRoot: JSON.parse(msText('sigstore-public-good-trusted_root.json')),
  identity,
  issuer,
});
const vec = (name: string) => msFile('signed-models', name);

describe.skipIf(!HAS_MS_VECTORS)('upstream signed-model vectors give their expected outcome', () => {
  afterAll(cleanupTemp);

  it('v1.1.0-elliptic-key (P-384, hint, recorded ignore_paths): valid', async () => {
    const v = await verifyModel(vec('v1.1.0-elliptic-key'), sig(vec('v1.1.0-elliptic-key')), { trust: keyTrust() });
    expect(codes(v)).toEqual([]);
    expect(v).toMatchObject({ ok: true, rootDigest: '92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4', resources: 2 });
    expect(v.signer).toEqual({ keyHint: 'e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e' });
    expect(v.ignorePaths).toContain('ignore-me');
  });

  it('v1.0.1-elliptic-key (rawBytes era, no ignore_paths): valid with --ignore ignore-me, else an extra file', async () => {
    const d = vec('v1.0.1-elliptic-key');
    expect(codes(await verifyModel(d, sig(d), { trust: keyTrust(), ignorePaths: ['ignore-me'], signatureFile: join(d, 'model.sig') }))).toEqual([]);
    const without = await verifyModel(d, sig(d), { trust: keyTrust(), signatureFile: join(d, 'model.sig') });
    expect(codes(without)).toEqual(['ERR_MODEL_FILE_EXTRA']);
    expect(without.errors[0]!.path).toBe('ignore-me');
  });

  it('v1.0.0-elliptic-key: the single file signme-1 (resource ".") is valid', async () => {
    const d = vec('v1.0.0-elliptic-key');
    const v = await verifyModel(join(d, 'signme-1'), sig(d), { trust: keyTrust() });
    expect(codes(v)).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('v1.1.0-certificate: valid against ca-cert.pem through the bundled intermediate', async () => {
    const d = vec('v1.1.0-certificate');
    const v = await verifyModel(d, sig(d), { trust: caTrust() });
    expect(codes(v)).toEqual([]);
    expect(v.signer?.anchor).toContain('root-ca');
  });

  it('v1.1.0-certificate: the intermediate pinned as the anchor also works; an unrelated CA does not (ERR_SIG_CERT_CHAIN)', async () => {
    const d = vec('v1.1.0-certificate');
    expect((await verifyModel(d, sig(d), { trust: { mode: 'certificate', trustedCAs: [msText('keys/int-ca-cert.pem')] } })).ok).toBe(true);
    const stranger = await issue({ subject: 'stranger-ca', ca: true, keyUsage: KU.keyCertSign });
    expect(codes(await verifyModel(d, sig(d), { trust: { mode: 'certificate', trustedCAs: [stranger.pem] } }))).toEqual(['ERR_SIG_CERT_CHAIN']);
  });

  it('v1.1.0-sigstore: keyless bundle valid offline with the public-good trusted root', async () => {
    const d = vec('v1.1.0-sigstore');
    const v = await verifyModel(d, sig(d), { trust: sigstoreTrust() });
    expect(codes(v)).toEqual([]);
    expect(v.signer).toEqual({ identity: 'stefanb@us.ibm.com', issuer: 'https://sigstore.verify.ibm.com/oauth2' });
  });

  it('v1.1.0-sigstore with another identity or issuer: ERR_SIG_IDENTITY', async () => {
    const d = vec('v1.1.0-sigstore');
    expect(codes(await verifyModel(d, sig(d), { trust: sigstoreTrust('mallory@example.com') }))).toEqual(['ERR_SIG_IDENTITY']);
    expect(codes(await verifyModel(d, sig(d), { trust: sigstoreTrust(undefined, 'https://accounts.google.com') }))).toEqual(['ERR_SIG_IDENTITY']);
  });

  it('v0.2.0-certificate (predicate Digests/v0.1): refused with ERR_SIG_PREDICATE_LEGACY only', async () => {
    const d = vec('v0.2.0-certificate');
    const v = await verifyModel(d, sig(d), { trust: caTrust() });
    expect(v.ok).toBe(false);
    expect(codes(v)).toEqual(['ERR_SIG_PREDICATE_LEGACY']);
  });

  it('a bundle checked in the wrong mode says so (ERR_SIG_MATERIAL)', async () => {
    const d = vec('v1.1.0-certificate');
    expect(codes(await verifyModel(d, sig(d), { trust: keyTrust() }))).toEqual(['ERR_SIG_MATERIAL']);
    const k = vec('v1.1.0-elliptic-key');
    expect(codes(await verifyModel(k, sig(k), { trust: caTrust() }))).toEqual(['ERR_SIG_MATERIAL']);
    expect(codes(await verifyModel(k, sig(k), { trust: sigstoreTrust() }))).toEqual(['ERR_SIG_MATERIAL']);
  });
});

describe.skipIf(!HAS_MS_VECTORS)('tampered upstream vectors fail with every reason', () => {
  afterAll(cleanupTemp);
  const tampers: Array<[string, string[], (d: string) => void]> = [
    ['flip a byte of signme-1', ['ERR_MODEL_FILE_MISMATCH'], (d) => flip(join(d, 'signme-1'), 0)],
    ['add a file', ['ERR_MODEL_FILE_EXTRA'], (d) => writeFileSync(join(d, 'extra.bin'), 'x')],
    ['delete signme-2', ['ERR_MODEL_FILE_MISSING'], (d) => rmSync(join(d, 'signme-2'))],
    ['all three at once', ['ERR_MODEL_FILE_EXTRA', 'ERR_MODEL_FILE_MISMATCH', 'ERR_MODEL_FILE_MISSING'], (d) => {
      flip(join(d, 'signme-1'), 3);
      writeFileSync(join(d, 'extra.bin'), 'x');
      rmSync(join(d, 'signme-2'));
    }],
    ['flip a byte of the DSSE payload', ['ERR_SIG_SIGNATURE_INVALID'], (d) => editPayload(join(d, 'model.sig'), '"name": "v1.1.0', '"name": "x1.1.0')],
    ['rename a resource in the DSSE payload', ['ERR_MODEL_FILE_EXTRA', 'ERR_MODEL_FILE_MISSING', 'ERR_SIG_SIGNATURE_INVALID'], (d) => editPayload(join(d, 'model.sig'), '"name": "signme-1"', '"name": "signme-3"')],
    ['append to a file', ['ERR_MODEL_FILE_MISMATCH'], (d) => appendFileSync(join(d, 'signme-2'), 'z')],
  ];
  for (const vector of ['v1.1.0-elliptic-key', 'v1.1.0-certificate', 'v1.1.0-sigstore']) {
    for (const [what, expected, tamper] of tampers) {
      it(`${vector}: ${what} -> ${expected.join(', ')}`, async () => {
        const d = copyVector(vector);
        tamper(d);
        const trust = vector.endsWith('key') ? keyTrust() : vector.endsWith('certificate') ? caTrust() : sigstoreTrust();
        const v = await verifyModel(d, sig(d), { trust });
        expect(v.ok).toBe(false);
        const got = codes(v);
        // Keyless: @sigstore/verify also sees the tlog body no longer matching a flipped payload.
        const want = vector.endsWith('sigstore') ? expected.map((c) => (c === 'ERR_SIG_SIGNATURE_INVALID' ? 'ERR_SIG_SIGSTORE' : c)) : expected;
        expect(got).toEqual(want);
      });
    }
  }

  it('another key: ERR_SIG_KEY_MISMATCH', async () => {
    const d = vec('v1.1.0-elliptic-key');
    const v = await verifyModel(d, sig(d), { trust: { mode: 'key', publicKeys: [ecKeyPair('P-384').publicPem] } });
    expect(codes(v)).toEqual(['ERR_SIG_KEY_MISMATCH']);
  });
});

function flip(path: string, at: number): void {
  const b = readFileSync(path);
  b[at] = b[at]! ^ 0x01;
  writeFileSync(path, b);
}

/** Edits the statement inside the bundle, keeping it valid JSON. */
function editPayload(sigPath: string, from: string, to: string): void {
  const bundle = JSON.parse(readFileSync(sigPath, 'utf8'));
  const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8');
  if (!payload.includes(from)) throw new Error(`payload lacks ${from}`);
  bundle.dsseEnvelope.payload = Buffer.from(payload.replace(from, to)).toString('base64');
  writeFileSync(sigPath, JSON.stringify(bundle));
}
