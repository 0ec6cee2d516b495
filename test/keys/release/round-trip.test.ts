import { type KeyObject, createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toKeyBundle } from '../../../keys/keystore/key-vault-json.js';
import { buildReleaseResponse } from '../../../keys/release/build-response.js';
import { type ReleaseCa, createReleaseCa } from '../../../keys/release/certificates.js';
import { openReleaseResponse } from '../../../keys/release/open-response.js';
import { type ReleaseSigner, chainToPem, createReleaseSigner, loadReleaseCa, loadReleaseSigner, releaseCaToPem, releaseSignerToPem } from '../../../keys/release/signer.js';
import { RELEASE_ENCS } from '../../../keys/wrap/enc.js';
import type { TeeJwk } from '../../../keys/wrap/tee-key.js';
import { HAS_SHARED, sharedFile } from '../../helpers/shared.js';
import { ADMIN, BASE_URL, POLICY, type TestStore, openTestStore } from '../keystore/fixtures.js';

function teeKey(kid = 'tee-1'): { privateKey: KeyObject; jwk: TeeJwk & { kid: string; n: string; e: string } } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' });
  return { privateKey, jwk: { kty: 'RSA', kid, n: n!, e: e!, key_ops: ['encrypt'] } };
}

function payloadOf(value: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(value.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

function keysDeep(o: unknown): unknown {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return typeof o;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, k === 'key_hsm' || k === 'data' || k === 'n' ? 'string' : keysDeep(v)]));
}

describe('release: our own responses round-trip through the runner\'s open routine', () => {
  let t: TestStore;
  let ca: ReleaseCa;
  let caSigned: ReleaseSigner;
  let selfSigned: ReleaseSigner;

  beforeAll(async () => {
    t = openTestStore();
    ca = await createReleaseCa();
    caSigned = await createReleaseSigner({ hostnames: ['krs.example.com'] }, ca);
    selfSigned = await createReleaseSigner({ hostnames: ['localhost'] });
  });
  afterAll(() => t.close());

  async function release(name: string, signer: ReleaseSigner, tee: TeeJwk, enc?: string, nonce?: string): Promise<{ value: string; material: Buffer }> {
    const { key, material } = await t.keystore.exportForRelease(name);
    const response = await buildReleaseResponse({ signer, bundle: toKeyBundle(key, BASE_URL), material, teeKey: tee, request: { apiVersion: '7.6', enc, nonce } });
    return { value: response.value, material };
  }

  it('opens oct and RSA keys for every enc, with a CA-issued chain trusted by its root', async () => {
    await t.keystore.create('oct-key', { kty: 'oct-HSM', exportable: true, releasePolicy: POLICY }, ADMIN);
    await t.keystore.create('rsa-key', { kty: 'RSA-HSM', exportable: true, releasePolicy: POLICY }, ADMIN);
    const tee = teeKey();
    const rootPem = chainToPem([ca.certificate]);
    for (const name of ['oct-key', 'rsa-key']) {
      for (const enc of RELEASE_ENCS) {
        const { value, material } = await release(name, caSigned, tee.jwk, enc, 'nonce-1');
        const opened = await openReleaseResponse({ value }, { trustedRoots: [rootPem], expectedHost: 'krs.example.com', expectedKid: `${BASE_URL}/keys/${name}`, expectedNonce: 'nonce-1', teePrivateKey: tee.privateKey, teePublicJwk: tee.jwk });
        expect(opened.material.equals(material)).toBe(true);
        expect(opened.enc).toBe(enc);
        expect(opened.kty).toBe(name === 'oct-key' ? 'oct' : 'RSA');
      }
    }
  });

  it('defaults enc to CKM_RSA_AES_KEY_WRAP and has the real MHSM response\'s shape and header', async () => {
    await t.keystore.create('shape', { kty: 'RSA-HSM', keyOps: ['encrypt', 'decrypt'], exportable: true, releasePolicy: POLICY }, ADMIN);
    const tee = teeKey('fake-release-key');
    const { value } = await release('shape', selfSigned, tee.jwk);
    const header = JSON.parse(Buffer.from(value.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    const leafThumb = createHash('sha256').update(selfSigned.chain[0]!).digest('base64url');
    expect(header).toEqual({ alg: 'RS256', kid: leafThumb, x5c: [selfSigned.chain[0]!.toString('base64')], 'x5t#S256': leafThumb });
    const payload = payloadOf(value) as { request: Record<string, unknown>; response: { key: { key: Record<string, unknown> } } };
    expect(payload.request).toEqual({ 'api-version': '7.6', enc: 'CKM_RSA_AES_KEY_WRAP', kid: `${BASE_URL}/keys/shape` });
    expect(payload.response.key.key.kty).toBe('RSA');
    expect(payload.response.key.key.kid).toMatch(new RegExp(`^${BASE_URL}/keys/shape/[0-9a-f]{32}$`));
    const keyHsm = JSON.parse(Buffer.from(payload.response.key.key.key_hsm as string, 'base64url').toString()) as Record<string, unknown>;
    expect(Object.keys(keyHsm)).toEqual(['ciphertext', 'header', 'schema_version']);
    expect(keyHsm.header).toEqual({ alg: 'dir', enc: 'CKM_RSA_AES_KEY_WRAP', kid: 'fake-release-key' });
    if (HAS_SHARED) {
      const real = JSON.parse(sharedFile('vectors/azure/akv-skr/mhsm_release_response.json').toString()) as { value: string };
      expect(keysDeep(payload)).toEqual(keysDeep(payloadOf(real.value)));
      expect(JSON.stringify(payloadOf(value)).replace(/"[^"]*"/g, '""').replace(/\d+/g, '0')).toBe(JSON.stringify(payloadOf(real.value)).replace(/"[^"]*"/g, '""').replace(/\d+/g, '0'));
    }
  });

  it('opens with a pinned self-signed leaf, and with a signer and CA reloaded from PEM', async () => {
    await t.keystore.create('pinned', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    const tee = teeKey();
    const reloaded = loadReleaseSigner(releaseSignerToPem(selfSigned));
    expect(reloaded.kid).toBe(selfSigned.kid);
    const { value, material } = await release('pinned', reloaded, tee.jwk, 'RSA_AES_KEY_WRAP_256');
    const fingerprint = createHash('sha256').update(selfSigned.chain[0]!).digest('hex');
    const opened = await openReleaseResponse(value, { pinnedCertificates: [fingerprint], teePrivateKey: tee.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), teePublicJwk: tee.jwk });
    expect(opened.material.equals(material)).toBe(true);
    const ca2 = loadReleaseCa(releaseCaToPem(ca));
    const issued = await createReleaseSigner({ bits: 3072 }, ca2);
    expect(issued.chain).toHaveLength(2);
    const again = await release('pinned', issued, tee.jwk);
    await expect(openReleaseResponse(again.value, { trustedRoots: [chainToPem([ca.certificate])], teePrivateKey: tee.privateKey, teePublicJwk: tee.jwk })).resolves.toBeTruthy();
  });

  it('refuses a key wrapped to another TEE key, a mismatched key pair, a wrong signer, a wrong nonce', async () => {
    await t.keystore.create('bound', { kty: 'oct', exportable: true, releasePolicy: POLICY }, ADMIN);
    const mine = teeKey('mine');
    const theirs = teeKey('theirs');
    const trust = { trustedRoots: [chainToPem([ca.certificate])] };
    const { value } = await release('bound', caSigned, theirs.jwk, undefined, 'n1');
    await expect(openReleaseResponse(value, { ...trust, teePrivateKey: mine.privateKey, teePublicJwk: mine.jwk })).rejects.toMatchObject({ code: 'ERR_RELEASE_BINDING' });
    // Same kid claimed, another key: the public key given must be the private key's own.
    await expect(openReleaseResponse(value, { ...trust, teePrivateKey: mine.privateKey, teePublicJwk: { ...theirs.jwk } })).rejects.toMatchObject({ code: 'ERR_RELEASE_BINDING' });
    // A release to a kid that collides with ours but another key cannot be unwrapped: still a binding failure.
    const collide = await release('bound', caSigned, { ...theirs.jwk, kid: 'mine' });
    await expect(openReleaseResponse(collide.value, { ...trust, teePrivateKey: mine.privateKey, teePublicJwk: mine.jwk })).rejects.toMatchObject({ code: 'ERR_RELEASE_BINDING' });
    await expect(openReleaseResponse(value, { pinnedCertificates: ['ab'.repeat(32)], teePrivateKey: theirs.privateKey, teePublicJwk: theirs.jwk })).rejects.toMatchObject({ code: 'ERR_RELEASE_UNTRUSTED' });
    await expect(openReleaseResponse(value, { ...trust, expectedNonce: 'n2', teePrivateKey: theirs.privateKey, teePublicJwk: theirs.jwk })).rejects.toMatchObject({ code: 'ERR_RELEASE_NONCE' });
    await expect(openReleaseResponse(value, { ...trust, expectedHost: 'other.example.com', teePrivateKey: theirs.privateKey, teePublicJwk: theirs.jwk })).rejects.toMatchObject({ code: 'ERR_RELEASE_HOSTNAME' });
  });

  it('refuses signers that are not RSA >= 2048 or whose key does not match the leaf', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const pem = releaseSignerToPem(selfSigned);
    expect(() => loadReleaseSigner({ ...pem, privateKeyPem: other.export({ type: 'pkcs8', format: 'pem' }).toString() })).toThrow(expect.objectContaining({ code: 'ERR_RELEASE_SIGNER' }));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(() => loadReleaseSigner({ ...pem, privateKeyPem: ec.export({ type: 'pkcs8', format: 'pem' }).toString() })).toThrow(expect.objectContaining({ code: 'ERR_RELEASE_SIGNER' }));
    expect(() => loadReleaseSigner({ ...pem, chainPem: '' })).toThrow(expect.objectContaining({ code: 'ERR_RELEASE_SIGNER' }));
    expect(createPrivateKey(pem.privateKeyPem).asymmetricKeyType).toBe('rsa');
  });
});
