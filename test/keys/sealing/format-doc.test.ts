import { createCipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sealFile } from '../../../keys/sealing/seal-file.js';
import { memorySink } from '../../../keys/sealing/sinks.js';
import { unsealFile } from '../../../keys/sealing/unseal-file.js';
import { REPO_ROOT } from '../../helpers/shared.js';
import { cleanupTemp, tempDir } from '../fixtures.js';

const doc = readFileSync(resolve(REPO_ROOT, 'docs/sealed-model-format.md'), 'utf8');
const example = doc.slice(doc.indexOf('## 8. Worked example'), doc.indexOf('## 9.'));
/** `name = hex` lines of the worked example. */
const v = (name: string): Buffer => {
  const m = new RegExp(`^${name}\\s*=\\s*([0-9a-f]+)$`, 'm').exec(example);
  if (!m) throw new Error(`docs/sealed-model-format.md: no ${name} in the worked example`);
  return Buffer.from(m[1]!, 'hex');
};
const containerHex = (): Buffer => {
  const blocks = [...example.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return Buffer.from(blocks.at(-1)!.replace(/\s+/g, ''), 'hex');
};
const meta = (): string => /```json\n(.*)\n```/.exec(example)![1]!;

describe('the worked example of docs/sealed-model-format.md', () => {
  afterAll(cleanupTemp);

  it('is what the format text says: recomputed here from the spec with node:crypto alone', () => {
    const dk = v('data_key');
    const salt = v('salt');
    const prefix = v('nonce_prefix');
    const pt = v('plaintext');
    const m = Buffer.from(meta(), 'utf8');
    expect(createHash('sha256').update(pt).digest()).toEqual(v('file_sha256'));
    expect(createHash('sha256').update(v('file_sha256')).digest()).toEqual(v('oms_root_digest'));
    const fixed = Buffer.alloc(65);
    fixed.write('ZT4AISM\0', 0, 'latin1');
    fixed[8] = 1;
    fixed[9] = 1;
    fixed.writeUInt32BE(65536, 10);
    fixed.writeBigUInt64BE(BigInt(pt.length), 14);
    salt.copy(fixed, 22);
    prefix.copy(fixed, 54);
    fixed.writeUInt32BE(m.length, 61);
    const header = Buffer.concat([fixed, m]);
    const hkdf = (s: Buffer, info: Buffer | string) => Buffer.from(hkdfSync('sha256', dk, s, info, 32));
    const keyCheck = hkdf(Buffer.alloc(0), 'zt4ai-sealed-model/v1 key-check');
    const kEnc = hkdf(salt, Buffer.from('zt4ai-sealed-model/v1 enc\0hello.txt'));
    const kCommit = hkdf(salt, Buffer.from('zt4ai-sealed-model/v1 commit\0hello.txt'));
    const tag = createHmac('sha256', kCommit).update(header).digest();
    const headerHash = createHash('sha256').update(header).digest();
    const nonce = Buffer.concat([prefix, Buffer.from([0, 0, 0, 0, 1])]);
    const aad = Buffer.concat([headerHash, Buffer.from([0, 0, 0, 0])]);
    const c = createCipheriv('aes-256-gcm', kEnc, nonce).setAAD(aad);
    const chunk = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
    expect({ headerHash, keyCheck, kEnc, kCommit, tag, nonce, aad, chunk }).toEqual({
      headerHash: v('header_hash'),
      keyCheck: v('key_check'),
      kEnc: v('k_enc'),
      kCommit: v('k_commit'),
      tag: v('commit_tag'),
      nonce: v('nonce_0'),
      aad: v('aad_0'),
      chunk: v('chunk_0'),
    });
    expect(Buffer.concat([header, keyCheck, tag, chunk])).toEqual(containerHex());
  });

  it('is what keys/sealing writes and reads', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'hello.txt'), v('plaintext'));
    const target = join(dir, 'hello.txt.sealed');
    const rootHex = v('oms_root_digest').toString('hex');
    await sealFile({
      source: join(dir, 'hello.txt'),
      target,
      dataKey: v('data_key'),
      meta: { name: 'hello.txt', kid: 'test-kek', wrap: 'dir', omsRootDigest: rootHex },
      chunkSize: 65536,
      expectedSha256: v('file_sha256').toString('hex'),
      fixedRandomness: { salt: v('salt'), noncePrefix: v('nonce_prefix') },
    });
    expect(readFileSync(target)).toEqual(containerHex());
    writeFileSync(target, containerHex());
    const mem = memorySink();
    await unsealFile(target, { key: v('data_key'), expect: { name: 'hello.txt', omsRootDigest: rootHex, sha256: v('file_sha256').toString('hex') }, sink: mem.factory });
    expect(mem.files.get('hello.txt')).toEqual(v('plaintext'));
  });
});
