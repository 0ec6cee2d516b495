import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directKeyUnwrapper, generateDataKey } from '../../../keys/sealing/data-keys.js';
import { TAG_LENGTH, TRAILER_LENGTH } from '../../../keys/sealing/format.js';
import { SealedFileReader, readContainerHeader } from '../../../keys/sealing/open-file.js';
import { sealFile } from '../../../keys/sealing/seal-file.js';
import { sealModel } from '../../../keys/sealing/seal-model.js';
import { discardSink, memorySink } from '../../../keys/sealing/sinks.js';
import { unsealFile } from '../../../keys/sealing/unseal-file.js';
import { unsealModel } from '../../../keys/sealing/unseal-model.js';
import { signModel } from '../../../keys/signing/sign.js';
import { cleanupTemp, ecKeyPair, pattern, sampleModel, tempDir, writeTree } from '../fixtures.js';
import { codeOf, flipAt, rsaKeys } from './helpers.js';

const CHUNK = 64 * 1024;
const SIZE = 5 * CHUNK + 1234; // six chunks, the last one short
const ROOT = 'ab'.repeat(32);

describe('one container: every tampering has its own code', () => {
  const dataKey = generateDataKey();
  let pristine: string;
  let headerLength: number;
  const plain = pattern(SIZE, 9);
  const sha256 = createHash('sha256').update(plain).digest('hex');
  const at = (i: number) => headerLength + TRAILER_LENGTH + i * (CHUNK + TAG_LENGTH);

  beforeAll(async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'w.bin'), plain);
    pristine = join(dir, 'w.bin.sealed');
    await sealFile({ source: join(dir, 'w.bin'), target: pristine, dataKey, meta: { name: 'w.bin', kid: 'k', wrap: 'dir', omsRootDigest: ROOT }, chunkSize: CHUNK, expectedSha256: sha256 });
    headerLength = (await readContainerHeader(pristine)).bytes.length;
  });
  afterAll(cleanupTemp);

  function copy(edit: (path: string) => void): string {
    const p = join(tempDir(), 'w.bin.sealed');
    copyFileSync(pristine, p);
    edit(p);
    return p;
  }
  const unseal = (p: string, key: Uint8Array = dataKey) => codeOf(() => unsealFile(p, { key, expect: { name: 'w.bin', omsRootDigest: ROOT, sha256 }, sink: discardSink() }));
  const chunk = (p: string, i: number) => readFileSync(p).subarray(at(i), at(i) + CHUNK + TAG_LENGTH);
  const put = (p: string, i: number, bytes: Buffer) => {
    const b = readFileSync(p);
    bytes.copy(b, at(i));
    writeFileSync(p, b);
  };

  it('pristine: unseals to the plaintext, in memory', async () => {
    const mem = memorySink();
    const r = await unsealFile(pristine, { key: dataKey, expect: { name: 'w.bin', omsRootDigest: ROOT, sha256 }, sink: mem.factory });
    expect(r).toMatchObject({ name: 'w.bin', size: SIZE, chunks: 6, sha256 });
    expect(mem.files.get('w.bin')!.equals(plain)).toBe(true);
  });

  const cases: Array<[string, string, (p: string) => void]> = [
    ['truncated inside the last chunk', 'ERR_SEAL_TRUNCATED', (p) => truncateSync(p, readFileSync(p).length - 10)],
    ['last chunk dropped', 'ERR_SEAL_TRUNCATED', (p) => truncateSync(p, at(5))],
    ['a chunk appended again', 'ERR_SEAL_TRAILING_DATA', (p) => writeFileSync(p, Buffer.concat([readFileSync(p), chunk(p, 1)]))],
    ['chunks 1 and 2 swapped', 'ERR_SEAL_CHUNK_REORDERED', (p) => {
      const [c1, c2] = [Buffer.from(chunk(p, 1)), Buffer.from(chunk(p, 2))];
      put(p, 1, c2);
      put(p, 2, c1);
    }],
    ['chunk 0 copied over chunk 3', 'ERR_SEAL_CHUNK_DUPLICATED', (p) => put(p, 3, Buffer.from(chunk(p, 0)))],
    ['a bit flipped in chunk 4', 'ERR_SEAL_CHUNK_CORRUPT', (p) => flipAt(p, at(4) + 100)],
    ['a bit flipped in a chunk tag', 'ERR_SEAL_CHUNK_CORRUPT', (p) => flipAt(p, at(1) + CHUNK + 3)],
    ['a bit flipped in the short last chunk', 'ERR_SEAL_CHUNK_CORRUPT', (p) => flipAt(p, at(5) + 5)],
    ['file name in the metadata edited', 'ERR_SEAL_HEADER_TAMPERED', (p) => flipAt(p, 65 + 10)],
    ['plaintext size edited', 'ERR_SEAL_HEADER_TAMPERED', (p) => flipAt(p, 21)],
    ['salt edited', 'ERR_SEAL_HEADER_TAMPERED', (p) => flipAt(p, 30)],
    ['nonce prefix edited', 'ERR_SEAL_HEADER_TAMPERED', (p) => flipAt(p, 56)],
    ['key check edited', 'ERR_SEAL_HEADER_TAMPERED', (p) => flipAt(p, headerLength + 1)],
    ['commitment tag edited', 'ERR_SEAL_HEADER_TAMPERED', (p) => flipAt(p, headerLength + 40)],
    ['chunk size edited to another valid size', 'ERR_SEAL_HEADER_TAMPERED', (p) => {
      const b = readFileSync(p);
      b.writeUInt32BE(CHUNK * 2, 10);
      writeFileSync(p, b);
    }],
    ['magic edited', 'ERR_SEAL_MAGIC', (p) => flipAt(p, 0)],
    ['version edited', 'ERR_SEAL_VERSION', (p) => flipAt(p, 8)],
    ['algorithm edited', 'ERR_SEAL_ALG', (p) => flipAt(p, 9)],
  ];
  for (const [what, code, edit] of cases) {
    it(`${what}: ${code}`, async () => {
      expect(await unseal(copy(edit))).toBe(code);
    });
  }

  it('wrong key: ERR_SEAL_WRONG_KEY, before any chunk is touched', async () => {
    expect(await unseal(pristine, generateDataKey())).toBe('ERR_SEAL_WRONG_KEY');
  });

  it('another name or model expected: ERR_SEAL_NAME_MISMATCH, ERR_SEAL_ROOT_MISMATCH, ERR_SEAL_BUNDLE_MISMATCH', async () => {
    const run = (expect: Record<string, string>) => codeOf(() => unsealFile(pristine, { key: dataKey, expect, sink: discardSink() }));
    expect(await run({ name: 'other.bin' })).toBe('ERR_SEAL_NAME_MISMATCH');
    expect(await run({ omsRootDigest: 'cd'.repeat(32) })).toBe('ERR_SEAL_ROOT_MISMATCH');
    expect(await run({ omsBundleSha256: 'ef'.repeat(32) })).toBe('ERR_SEAL_BUNDLE_MISMATCH');
    expect(await run({ sha256: 'ef'.repeat(32) })).toBe('ERR_SEAL_DIGEST_MISMATCH');
  });

  it('random access: any chunk alone, each tamper diagnosed there too', async () => {
    const r = await SealedFileReader.open(pristine, dataKey);
    try {
      expect(r.chunkCount).toBe(6);
      for (const i of [5, 0, 3]) expect((await r.readChunk(i)).equals(plain.subarray(i * CHUNK, Math.min(SIZE, (i + 1) * CHUNK)))).toBe(true);
      expect(await codeOf(() => r.readChunk(6))).toBe('ERR_SEAL_CHUNK_INDEX');
      expect(await codeOf(() => r.readChunk(-1))).toBe('ERR_SEAL_CHUNK_INDEX');
    } finally {
      await r.close();
    }
    const swapped = copy((p) => {
      const [c1, c2] = [Buffer.from(chunk(p, 1)), Buffer.from(chunk(p, 2))];
      put(p, 1, c2);
      put(p, 2, c1);
    });
    const s = await SealedFileReader.open(swapped, dataKey);
    try {
      expect((await s.readChunk(0)).equals(plain.subarray(0, CHUNK))).toBe(true);
      expect(await codeOf(() => s.readChunk(2))).toBe('ERR_SEAL_CHUNK_REORDERED');
    } finally {
      await s.close();
    }
  });
});

describe('model level: swaps, missing files, a sealer that lies', () => {
  afterAll(cleanupTemp);
  const dataKey = generateDataKey();
  const key = { direct: { kid: 'shared', dataKey } } as const;
  const unwrap = directKeyUnwrapper({ shared: dataKey });

  async function sealedPair(): Promise<{ a: string; b: string; modelA: string }> {
    const modelA = sampleModel(join(tempDir(), 'a'));
    const modelB = writeTree(sampleModel(join(tempDir(), 'b')), { 'weights/part-0.bin': pattern(70_000, 77) });
    const a = join(tempDir(), 'sealed-a');
    const b = join(tempDir(), 'sealed-b');
    await sealModel(modelA, { outDir: a, key, chunkSize: CHUNK, threads: 0 });
    await sealModel(modelB, { outDir: b, key, chunkSize: CHUNK, threads: 0 });
    return { a, b, modelA };
  }
  const unsealCode = (dir: string, k = unwrap) => codeOf(() => unsealModel(dir, { key: k, sink: memorySink().factory, threads: 0 }));

  it('a file taken from another model sealed under the same data key: ERR_SEAL_ROOT_MISMATCH', async () => {
    const { a, b } = await sealedPair();
    copyFileSync(join(b, 'weights/part-0.bin.sealed'), join(a, 'weights/part-0.bin.sealed'));
    expect(await unsealCode(a)).toBe('ERR_SEAL_ROOT_MISMATCH');
  });

  it('two containers of one model swapped by name: ERR_SEAL_NAME_MISMATCH', async () => {
    const { a } = await sealedPair();
    const [p0, p1, t] = ['weights/part-0.bin.sealed', 'weights/part-1.bin.sealed', 'swap'].map((n) => join(a, n)) as [string, string, string];
    renameSync(p0, t);
    renameSync(p1, p0);
    renameSync(t, p1);
    expect(await unsealCode(a)).toBe('ERR_SEAL_NAME_MISMATCH');
  });

  it('the model from another data key: ERR_SEAL_WRONG_KEY; from another RSA key: ERR_KEY_UNWRAP', async () => {
    const { a } = await sealedPair();
    expect(await unsealCode(a, directKeyUnwrapper({ shared: generateDataKey() }))).toBe('ERR_SEAL_WRONG_KEY');
    const model = sampleModel(join(tempDir(), 'm'));
    const sealed = join(tempDir(), 's');
    await sealModel(model, { outDir: sealed, key: { wrapper: rsaKeys().wrapper }, chunkSize: CHUNK, threads: 0 });
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const { rsaOaepUnwrapper } = await import('../../../keys/sealing/data-keys.js');
    expect(await unsealCode(sealed, rsaOaepUnwrapper(other))).toBe('ERR_KEY_UNWRAP');
  });

  it('a container deleted or added: ERR_SEAL_FILE_MISSING, ERR_SEAL_FILE_UNEXPECTED', async () => {
    const { a } = await sealedPair();
    copyFileSync(join(a, 'config.json.sealed'), join(a, 'extra.sealed'));
    expect(await unsealCode(a)).toBe('ERR_SEAL_FILE_UNEXPECTED');
    rmSync(join(a, 'extra.sealed'));
    rmSync(join(a, 'config.json.sealed'));
    expect(await unsealCode(a)).toBe('ERR_SEAL_FILE_MISSING');
  });

  it('model.sig replaced by another signature: ERR_SEAL_BUNDLE_MISMATCH (or ERR_SEAL_MANIFEST when unusable)', async () => {
    const model = sampleModel(join(tempDir(), 'm'));
    const sealed = join(tempDir(), 's');
    const ec = ecKeyPair();
    await sealModel(model, { outDir: sealed, key, sign: { privateKey: ec.privatePem }, chunkSize: CHUNK, threads: 0 });
    writeFileSync(join(sealed, 'model.sig'), (await signModel(model, { privateKey: ecKeyPair().privatePem })).bundleJson);
    expect(await unsealCode(sealed)).toBe('ERR_SEAL_BUNDLE_MISMATCH');
    writeFileSync(join(sealed, 'model.sig'), '{}');
    expect(await unsealCode(sealed)).toBe('ERR_SEAL_MANIFEST');
  });

  it('a sealer that encrypts other content than the signed file: ERR_SEAL_DIGEST_MISMATCH at unseal, ERR_SEAL_SOURCE_CHANGED at seal', async () => {
    const { a, modelA } = await sealedPair();
    const h = await readContainerHeader(join(a, 'config.json.sealed'));
    const forged = join(tempDir(), 'config.json');
    writeFileSync(forged, '{"arch":"evil"}');
    const digest = createHash('sha256').update('{"arch":"evil"}').digest('hex');
    rmSync(join(a, 'config.json.sealed'));
    await sealFile({ source: forged, target: join(a, 'config.json.sealed'), dataKey, meta: h.meta, chunkSize: CHUNK, expectedSha256: digest });
    expect(await unsealCode(a)).toBe('ERR_SEAL_DIGEST_MISMATCH');
    const target = join(tempDir(), 'x.sealed');
    expect(await codeOf(() => sealFile({ source: join(modelA, 'config.json'), target, dataKey, meta: h.meta, chunkSize: CHUNK, expectedSha256: digest }))).toBe('ERR_SEAL_SOURCE_CHANGED');
    expect(await codeOf(async () => readFileSync(target))).not.toBe('none');
  });
});
