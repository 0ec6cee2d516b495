import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { directKeyUnwrapper, generateDataKey } from '../../../keys/sealing/data-keys.js';
import { inspectSealedModel } from '../../../keys/sealing/inspect.js';
import { sealModel } from '../../../keys/sealing/seal-model.js';
import { directorySink, memorySink } from '../../../keys/sealing/sinks.js';
import { unsealModel } from '../../../keys/sealing/unseal-model.js';
import { signModel } from '../../../keys/signing/sign.js';
import { verifyModel } from '../../../keys/signing/verify.js';
import { cleanupTemp, ecKeyPair, sampleModel, tempDir } from '../fixtures.js';
import { rsaKeys } from './helpers.js';

const CHUNK = 64 * 1024;

describe('sign -> seal -> unseal -> verify, with local keys', () => {
  afterAll(cleanupTemp);

  it('RSA-OAEP-256 wrapped data key, signed while sealing: the unsealed copy verifies against the signature', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    const sealed = join(tempDir(), 'sealed');
    const ec = ecKeyPair();
    const { wrapper, unwrapper } = rsaKeys();
    const s = await sealModel(model, { outDir: sealed, key: { wrapper }, sign: { privateKey: ec.privatePem }, chunkSize: CHUNK, threads: 0 });
    expect(s).toMatchObject({ wrap: 'RSA-OAEP-256', kid: 'kek-1', statementFile: 'model.sig', chunkSize: CHUNK, threads: 0 });
    expect(s.files.map((f) => [f.name, f.chunks])).toEqual([
      ['config.json', 1],
      ['empty.bin', 1],
      ['tokenizer/vocab.txt', 1],
      ['weights/part-0.bin', 2],
      ['weights/part-1.bin', 3],
    ]);
    const out = join(tempDir(), 'plain');
    const u = await unsealModel(sealed, { key: unwrapper, sink: directorySink(out), threads: 0 });
    expect(u).toMatchObject({ rootDigest: s.rootDigest, signed: true });
    for (const f of s.files) expect(readFileSync(join(out, f.name)).equals(readFileSync(join(model, f.name)))).toBe(true);
    const v = await verifyModel(out, readFileSync(join(sealed, 'model.sig')), { trust: { mode: 'key', publicKeys: [ec.publicPem] } });
    expect(v.errors).toEqual([]);
    expect(v.rootDigest).toBe(s.rootDigest);
  });

  it('dir key (an oct key held by a key service, named by kid): no wrapped key in the headers', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    const ec = ecKeyPair();
    const bundle = (await signModel(model, { privateKey: ec.privatePem })).bundleJson;
    const sealed = join(tempDir(), 'sealed');
    const dataKey = generateDataKey();
    const s = await sealModel(model, { outDir: sealed, key: { direct: { kid: 'krs:model-key-7', dataKey } }, bundle, chunkSize: CHUNK, threads: 0 });
    expect(s.wrap).toBe('dir');
    const info = await inspectSealedModel(sealed);
    expect(info.containers.every((c) => c.wrap === 'dir' && c.wrappedKeyBytes === null && c.kid === 'krs:model-key-7')).toBe(true);
    const mem = memorySink();
    await unsealModel(sealed, { key: directKeyUnwrapper({ 'krs:model-key-7': dataKey }), sink: mem.factory, threads: 0 });
    expect(mem.files.get('weights/part-1.bin')!.equals(readFileSync(join(model, 'weights/part-1.bin')))).toBe(true);
    expect([...mem.files.keys()].sort()).toEqual(['config.json', 'empty.bin', 'tokenizer/vocab.txt', 'weights/part-0.bin', 'weights/part-1.bin']);
  });

  it('unsigned: the statement ships as model.manifest.json and still binds every file', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    const sealed = join(tempDir(), 'sealed');
    const { wrapper, unwrapper } = rsaKeys();
    const s = await sealModel(model, { outDir: sealed, key: { wrapper }, chunkSize: CHUNK, threads: 0 });
    expect(s.statementFile).toBe('model.manifest.json');
    const mem = memorySink();
    const u = await unsealModel(sealed, { key: unwrapper, sink: mem.factory, threads: 0 });
    expect(u.signed).toBe(false);
    expect(mem.files.size).toBe(5);
  });

  it('inspect shows metadata and never the data key', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    const sealed = join(tempDir(), 'sealed');
    const { wrapper } = rsaKeys();
    const s = await sealModel(model, { outDir: sealed, key: { wrapper }, chunkSize: CHUNK, threads: 0 });
    const info = await inspectSealedModel(sealed);
    expect(info.problems).toEqual([]);
    expect(info.statement).toMatchObject({ signed: false, rootDigest: s.rootDigest, files: 5 });
    expect(info.containers.find((c) => c.name === 'weights/part-1.bin')).toMatchObject({ chunkSize: CHUNK, plaintextSize: 133_123, chunks: 3, wrappedKeyBytes: 384, omsRootDigest: s.rootDigest });
  });
});
