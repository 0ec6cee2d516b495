import { createPublicKey } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import { afterAll, describe, expect, it } from 'vitest';
import { keyHint } from '../../../keys/signing/ec-keys.js';
import { comparePosixPaths } from '../../../keys/signing/path-order.js';
import { signModel } from '../../../keys/signing/sign.js';
import { parseStatement } from '../../../keys/signing/statement.js';
import { verifyModel } from '../../../keys/signing/verify.js';
import { cleanupTemp, ecKeyPair, sampleModel, tempDir, writeTree } from '../fixtures.js';
import { KU, issue } from '../pki.js';

const codes = (v: { errors: readonly { code: string }[] }) => v.errors.map((e) => e.code).sort();

describe('signing here, verifying here', () => {
  afterAll(cleanupTemp);

  for (const curve of ['P-256', 'P-384'] as const) {
    it(`${curve}: the bundle verifies, records the default ignores and the hint of the SPKI PEM`, async () => {
      const dir = sampleModel(join(tempDir(), 'model'));
      writeTree(dir, { '.git/HEAD': 'ref', '.gitignore': '*.tmp' });
      const k = ecKeyPair(curve);
      const signed = await signModel(dir, { privateKey: k.privatePem });
      writeFileSync(join(dir, 'model.sig'), signed.bundleJson);
      const st = parseStatement(signed.payload);
      expect(st.manifest.serialization.ignorePaths).toEqual(['.git', '.gitattributes', '.github', '.gitignore', 'model.sig']);
      expect(st.manifest.resources.map((r) => r.name)).toEqual(['config.json', 'empty.bin', 'tokenizer/vocab.txt', 'weights/part-0.bin', 'weights/part-1.bin']);
      expect((signed.bundle.verificationMaterial as { publicKey: { hint: string } }).publicKey.hint).toBe(keyHint(createPublicKey(k.publicPem)));
      const v = await verifyModel(dir, signed.bundleJson, { trust: { mode: 'key', publicKeys: [k.publicPem] } });
      expect(codes(v)).toEqual([]);
      expect(v.rootDigest).toBe(signed.manifest.rootDigest);
    });
  }

  it('a P-256 bundle made here also verifies with @sigstore/verify (KeyFinder, thresholds 0)', async () => {
    const dir = sampleModel(join(tempDir(), 'model'));
    const k = ecKeyPair('P-256');
    const signed = await signModel(dir, { privateKey: k.privatePem });
    const key = createPublicKey(k.publicPem);
    const emptyRoot = TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
    const finder = (hint: string) => {
      if (hint !== keyHint(key)) throw new Error('unknown key');
      return { publicKey: key, validFor: () => true };
    };
    const verifier = new Verifier(toTrustMaterial(emptyRoot, finder), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    const signer = verifier.verify(toSignedEntity(bundleFromJSON(signed.bundle)));
    expect(signer.key.equals(key)).toBe(true);
    const other = ecKeyPair('P-256');
    const wrong = new Verifier(toTrustMaterial(emptyRoot, () => ({ publicKey: createPublicKey(other.publicPem), validFor: () => true })), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    expect(() => wrong.verify(toSignedEntity(bundleFromJSON(signed.bundle)))).toThrow();
  });

  it('a file swapped after signing is caught (ERR_MODEL_FILE_MISMATCH on both names)', async () => {
    const dir = sampleModel(join(tempDir(), 'model'));
    const k = ecKeyPair();
    const signed = await signModel(dir, { privateKey: k.privatePem });
    const a = join(dir, 'weights/part-0.bin');
    const b = join(dir, 'weights/part-1.bin');
    const tmp = join(dir, 'swap');
    const { renameSync } = await import('node:fs');
    renameSync(a, tmp);
    renameSync(b, a);
    renameSync(tmp, b);
    const v = await verifyModel(dir, signed.bundleJson, { trust: { mode: 'key', publicKeys: [k.publicPem] } });
    expect(v.errors.map((e) => [e.code, e.path])).toEqual([
      ['ERR_MODEL_FILE_MISMATCH', 'weights/part-0.bin'],
      ['ERR_MODEL_FILE_MISMATCH', 'weights/part-1.bin'],
    ]);
  });

  it('symlinks are refused when signing unless allowed, and when verifying unless both sides allow them', async () => {
    const base = tempDir();
    const dir = sampleModel(join(base, 'model'));
    writeFileSync(join(base, 'outside'), 'secret');
    symlinkSync(join(base, 'outside'), join(dir, 'link'));
    const k = ecKeyPair();
    await expect(signModel(dir, { privateKey: k.privatePem })).rejects.toMatchObject({ code: 'ERR_MODEL_SYMLINK' });
    const signed = await signModel(dir, { privateKey: k.privatePem, allowSymlinks: true });
    const trust = { mode: 'key', publicKeys: [k.publicPem] } as const;
    expect(codes(await verifyModel(dir, signed.bundleJson, { trust }))).toEqual(['ERR_MODEL_SYMLINK']);
    expect(codes(await verifyModel(dir, signed.bundleJson, { trust, allowSymlinks: true }))).toEqual([]);
  });

  it('shards: a sharded signature verifies and a changed byte names its file', async () => {
    const dir = sampleModel(join(tempDir(), 'model'));
    const k = ecKeyPair();
    const signed = await signModel(dir, { privateKey: k.privatePem, method: 'shards', shardSize: 65_536 });
    expect(signed.manifest.resources.some((r) => r.name === 'weights/part-1.bin:131072:133123')).toBe(true);
    const trust = { mode: 'key', publicKeys: [k.publicPem] } as const;
    expect(codes(await verifyModel(dir, signed.bundleJson, { trust }))).toEqual([]);
    writeFileSync(join(dir, 'weights/part-1.bin'), 'short');
    const v = await verifyModel(dir, signed.bundleJson, { trust });
    expect(v.errors.map((e) => [e.code, e.path])).toEqual([['ERR_MODEL_FILE_MISMATCH', 'weights/part-1.bin']]);
  });

  it('verifier --ignore and the signer ignore list are honoured; an ignored signed file is reported missing', async () => {
    const dir = sampleModel(join(tempDir(), 'model'));
    const k = ecKeyPair();
    const signed = await signModel(dir, { privateKey: k.privatePem, ignorePaths: ['tokenizer'] });
    writeTree(dir, { 'tokenizer/new.txt': 'x', 'notes.md': 'n' });
    const trust = { mode: 'key', publicKeys: [k.publicPem] } as const;
    expect(codes(await verifyModel(dir, signed.bundleJson, { trust }))).toEqual(['ERR_MODEL_FILE_EXTRA']);
    expect(codes(await verifyModel(dir, signed.bundleJson, { trust, ignorePaths: ['notes.md'] }))).toEqual([]);
    expect(codes(await verifyModel(dir, signed.bundleJson, { trust, ignorePaths: ['notes.md', 'config.json'] }))).toEqual(['ERR_MODEL_FILE_MISSING']);
  });

  it('a missing model path and a non-bundle signature file are reported with codes', async () => {
    const k = ecKeyPair();
    const trust = { mode: 'key', publicKeys: [k.publicPem] } as const;
    expect(codes(await verifyModel('/nonexistent/model', '{}', { trust }))).toEqual(['ERR_SIG_BUNDLE_MALFORMED']);
    const dir = sampleModel(join(tempDir(), 'model'));
    const signed = await signModel(dir, { privateKey: k.privatePem });
    rmSync(dir, { recursive: true });
    expect(codes(await verifyModel(dir, signed.bundleJson, { trust }))).toEqual(['ERR_MODEL_NOT_FOUND']);
    expect(codes(await verifyModel(dir, 'not json', { trust }))).toEqual(['ERR_SIG_BUNDLE_MALFORMED']);
  });
});

describe('certificate mode with a generated PKI', () => {
  afterAll(cleanupTemp);

  async function signedWith(leafOpts: Partial<Parameters<typeof issue>[0]>, caOpts: Partial<Parameters<typeof issue>[0]> = {}) {
    const root = await issue({ subject: 'root', ca: true, keyUsage: KU.keyCertSign, ...caOpts });
    const inter = await issue({ subject: 'inter', ca: true, keyUsage: KU.keyCertSign, issuer: root, pathLen: 0 });
    const leaf = await issue({ subject: 'signer', issuer: inter, keyUsage: KU.digitalSignature, ...leafOpts });
    const dir = sampleModel(join(tempDir(), 'model'));
    const signed = await signModel(dir, { privateKey: leaf.privatePem, certificateChain: [leaf.pem, inter.pem] });
    return verifyModel(dir, signed.bundleJson, { trust: { mode: 'certificate', trustedCAs: [root.pem] } });
  }

  it('leaf -> intermediate -> trusted root: valid', async () => {
    expect(codes(await signedWith({}))).toEqual([]);
  });
  it('EKU codeSigning without KeyUsage is enough', async () => {
    expect(codes(await signedWith({ keyUsage: KU.keyEncipherment, codeSigning: true }))).toEqual([]);
  });
  it('neither digitalSignature nor codeSigning: ERR_SIG_CERT_USAGE', async () => {
    expect(codes(await signedWith({ keyUsage: KU.keyEncipherment }))).toEqual(['ERR_SIG_CERT_USAGE']);
  });
  it('a root without basicConstraints CA: ERR_SIG_CERT_CA', async () => {
    expect(codes(await signedWith({}, { ca: false }))).toEqual(['ERR_SIG_CERT_CA']);
  });
  it("a root expired before the leaf's notBefore: ERR_SIG_CERT_VALIDITY", async () => {
    expect(codes(await signedWith({ notBefore: new Date('2030-01-01T00:00:00Z') }, { notAfter: new Date('2029-01-01T00:00:00Z') }))).toEqual(['ERR_SIG_CERT_VALIDITY']);
  });
  it('pathLen 0 on the intermediate forbids a second intermediate: ERR_SIG_CERT_CA', async () => {
    const root = await issue({ subject: 'root', ca: true, keyUsage: KU.keyCertSign });
    const inter = await issue({ subject: 'inter', ca: true, keyUsage: KU.keyCertSign, issuer: root, pathLen: 0 });
    const sub = await issue({ subject: 'sub', ca: true, keyUsage: KU.keyCertSign, issuer: inter });
    const leaf = await issue({ subject: 'signer', issuer: sub, keyUsage: KU.digitalSignature });
    const dir = sampleModel(join(tempDir(), 'model'));
    const signed = await signModel(dir, { privateKey: leaf.privatePem, certificateChain: [leaf.pem, sub.pem, inter.pem] });
    expect(codes(await verifyModel(dir, signed.bundleJson, { trust: { mode: 'certificate', trustedCAs: [root.pem] } }))).toEqual(['ERR_SIG_CERT_CA']);
  });
  it('signed by another key than the certificate: ERR_SIG_SIGNATURE_INVALID', async () => {
    const root = await issue({ subject: 'root', ca: true, keyUsage: KU.keyCertSign });
    const leaf = await issue({ subject: 'signer', issuer: root, keyUsage: KU.digitalSignature });
    const dir = sampleModel(join(tempDir(), 'model'));
    const signed = await signModel(dir, { privateKey: ecKeyPair().privatePem, certificateChain: [leaf.pem] });
    expect(codes(await verifyModel(dir, signed.bundleJson, { trust: { mode: 'certificate', trustedCAs: [root.pem] } }))).toEqual(['ERR_SIG_SIGNATURE_INVALID']);
  });
});

describe('manifest order is PurePosixPath order', () => {
  it('component-wise: "a/b" sorts before "a.b" (plain string order says otherwise)', () => {
    const names = ['a.b', 'a/b', 'a-b/c', 'a/b/c', 'a', 'B', 'é', '\u{1F600}', '\uFFFD'];
    expect([...names].sort(comparePosixPaths)).toEqual(['B', 'a', 'a/b', 'a/b/c', 'a-b/c', 'a.b', 'é', '\uFFFD', '\u{1F600}']);
  });
  it('a model with such names signs and verifies, nested and flat', async () => {
    const dir = writeTree(join(tempDir(), 'm'), { 'a/b': '1', 'a.b': '2', 'a-b/c': '3' });
    mkdirSync(join(dir, 'emptydir'));
    const k = ecKeyPair();
    const signed = await signModel(dir, { privateKey: k.privatePem });
    expect(signed.manifest.resources.map((r) => r.name)).toEqual(['a/b', 'a-b/c', 'a.b']);
    expect((await verifyModel(dir, signed.bundleJson, { trust: { mode: 'key', publicKeys: [k.publicPem] } })).ok).toBe(true);
    cleanupTemp();
  });
});
