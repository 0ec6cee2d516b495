import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io.js';
import { type CliRun, cli } from '../../helpers/cli.js';
import { HAS_MS_VECTORS, cleanupTemp, ecKeyPair, msFile, sampleModel, tempDir } from '../../keys/fixtures.js';
import { flipAt } from '../../keys/sealing/helpers.js';

/** `zt4ai <args>` in-process, through the real composed program. */
async function run(args: string[], overrides: Partial<CliIo> = {}): Promise<CliRun> {
  return cli(args, overrides);
}

function keyFiles(dir: string): { ecPriv: string; ecPub: string; rsaPub: string; rsaPriv: string } {
  const ec = ecKeyPair();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const files = {
    ecPriv: join(dir, 'ec.pem'),
    ecPub: join(dir, 'ec.pub.pem'),
    rsaPub: join(dir, 'rsa.pub.pem'),
    rsaPriv: join(dir, 'rsa.pem'),
  };
  writeFileSync(files.ecPriv, ec.privatePem);
  writeFileSync(files.ecPub, ec.publicPem);
  writeFileSync(files.rsaPub, rsa.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(files.rsaPriv, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return files;
}

describe('zt4ai model', () => {
  afterAll(cleanupTemp);
  const keys = keyFiles(tempDir());

  it('--help documents every command and option', async () => {
    const r = await run(['model', '--help']);
    expect(r.code).toBe(0);
    for (const c of ['sign', 'verify', 'seal', 'inspect', 'unseal']) expect(r.stdout).toContain(c);
    const v = await run(['model', 'verify', '--help']);
    for (const o of ['--sig', '--pubkey', '--cert', '--identity', '--issuer', '--trusted-root', '--ignore', '--json']) expect(v.stdout).toContain(o);
  });

  it('sign then verify: exit 0; --json carries ok, rootDigest, signer, ignorePaths', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    const s = await run(['model', 'sign', model, '--key', keys.ecPriv, '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.json()).toMatchObject({ ok: true, signature: join(model, 'model.sig'), files: 5 });
    const v = await run(['model', 'verify', model, '--sig', join(model, 'model.sig'), '--pubkey', keys.ecPub, '--json']);
    expect(v.code).toBe(0);
    expect(v.json()).toMatchObject({ ok: true, mode: 'key', rootDigest: s.json().rootDigest, errors: [] });
    const text = await run(['model', 'verify', model, '--sig', join(model, 'model.sig'), '--pubkey', keys.ecPub]);
    expect(text.stdout).toMatch(/^VALID: /);
  });

  it('a tampered model: exit 1 with every reason', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    expect((await run(['model', 'sign', model, '--key', keys.ecPriv])).code).toBe(0);
    flipAt(join(model, 'config.json'), 2);
    writeFileSync(join(model, 'extra.txt'), 'x');
    const v = await run(['model', 'verify', model, '--sig', join(model, 'model.sig'), '--pubkey', keys.ecPub, '--json']);
    expect(v.code).toBe(1);
    expect((v.json().errors as Array<{ code: string }>).map((e) => e.code).sort()).toEqual(['ERR_MODEL_FILE_EXTRA', 'ERR_MODEL_FILE_MISMATCH']);
    const text = await run(['model', 'verify', model, '--sig', join(model, 'model.sig'), '--pubkey', keys.ecPub]);
    expect(text.stdout).toMatch(/^INVALID: /);
    expect(text.stdout).toContain('x ERR_MODEL_FILE_EXTRA');
  });

  it('usage and I/O problems: exit 2', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    const sig = join(model, 'model.sig');
    expect((await run(['model', 'verify', model, '--sig', sig])).code).toBe(2);
    expect((await run(['model', 'verify', model, '--sig', sig, '--pubkey', keys.ecPub, '--cert', keys.ecPub])).code).toBe(2);
    const missing = await run(['model', 'verify', model, '--sig', sig, '--pubkey', keys.ecPub]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ERR_IO');
    expect((await run(['model', 'verify', '/nonexistent/model', '--sig', sig, '--pubkey', keys.ecPub])).code).toBe(2);
    expect((await run(['model', 'verify', model, '--sig', sig, '--identity', 'a@b', '--issuer', 'https://x'])).stderr).toContain('--trusted-root');
    expect((await run(['model', 'sign', model, '--key', keys.rsaPub])).code).toBe(2);
    expect((await run(['model', 'seal', model, '--out', join(tempDir(), 'o'), '--wrap-key', keys.ecPub])).code).toBe(2);
    expect((await run(['model', 'seal', model, '--out', join(tempDir(), 'o'), '--wrap-key', keys.rsaPub, '--chunk-size', '1000'])).code).toBe(2);
  });

  it('seal, inspect, unseal (only with the flag), then verify the plaintext copy', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    const sealed = join(tempDir(), 'sealed');
    const s = await run(['model', 'seal', model, '--out', sealed, '--wrap-key', keys.rsaPub, '--kid', 'kek-7', '--sign-key', keys.ecPriv, '--chunk-size', '65536', '--threads', '0', '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.json()).toMatchObject({ ok: true, kid: 'kek-7', wrap: 'RSA-OAEP-256', statementFile: 'model.sig', chunkSize: 65536 });
    expect(readdirSync(sealed).sort()).toEqual(['config.json.sealed', 'empty.bin.sealed', 'model.sig', 'tokenizer', 'weights']);
    const i = await run(['model', 'inspect', sealed, '--json']);
    expect(i.code).toBe(0);
    expect(JSON.stringify(i.json())).not.toMatch(/wrapped_dek|wrappedKey"/);
    expect((i.json().containers as unknown[]).length).toBe(5);
    const out = join(tempDir(), 'plain');
    const refused = await run(['model', 'unseal', sealed, '--out', out, '--unwrap-key', keys.rsaPriv]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('ERR_PLAINTEXT_REFUSED');
    const u = await run(['model', 'unseal', sealed, '--out', out, '--unwrap-key', keys.rsaPriv, '--i-understand-this-writes-plaintext', '--threads', '0', '--json']);
    expect(u.code, u.stderr).toBe(0);
    expect(u.json()).toMatchObject({ ok: true, signed: true, rootDigest: s.json().rootDigest });
    const v = await run(['model', 'verify', out, '--sig', join(sealed, 'model.sig'), '--pubkey', keys.ecPub]);
    expect(v.code, v.stdout).toBe(0);
    expect(readFileSync(join(out, 'weights/part-1.bin')).equals(readFileSync(join(model, 'weights/part-1.bin')))).toBe(true);
  });

  it('unseal of a tampered container or with another key: exit 1 with the code; nothing half-written', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    const sealed = join(tempDir(), 'sealed');
    expect((await run(['model', 'seal', model, '--out', sealed, '--wrap-key', keys.rsaPub, '--chunk-size', '65536', '--threads', '0'])).code).toBe(0);
    flipAt(join(sealed, 'weights/part-1.bin.sealed'), 20_000);
    const out = join(tempDir(), 'plain');
    const u = await run(['model', 'unseal', sealed, '--out', out, '--unwrap-key', keys.rsaPriv, '--i-understand-this-writes-plaintext', '--threads', '0', '--json']);
    expect(u.code).toBe(1);
    expect(u.json()).toMatchObject({ ok: false, errors: [{ code: 'ERR_SEAL_CHUNK_CORRUPT', path: 'weights/part-1.bin' }] });
    expect(readdirSync(join(out, 'weights')).filter((n) => n.includes('part-1'))).toEqual([]);
    const other = join(tempDir(), 'other.pem');
    writeFileSync(other, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const w = await run(['model', 'unseal', sealed, '--out', join(tempDir(), 'p2'), '--unwrap-key', other, '--i-understand-this-writes-plaintext', '--threads', '0']);
    expect(w.code).toBe(1);
    expect(w.stdout).toContain('ERR_KEY_UNWRAP');
  });

  it('on a terminal, long operations draw a progress bar on stderr (bytes, rate, ETA)', async () => {
    const model = sampleModel(join(tempDir(), 'model'));
    const r = await run(['model', 'seal', model, '--out', join(tempDir(), 's'), '--wrap-key', keys.rsaPub, '--threads', '0', '--chunk-size', '65536'], { isTTY: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/seal \[.*\] 100% .*MiB.*\/s ETA/);
  });
});

describe.skipIf(!HAS_MS_VECTORS)('zt4ai model verify on the upstream vectors', () => {
  const v = (name: string) => msFile('signed-models', name);
  it('key, certificate and keyless vectors: exit 0; v0.2.0: exit 1 with ERR_SIG_PREDICATE_LEGACY', async () => {
    const key = await run(['model', 'verify', v('v1.1.0-elliptic-key'), '--sig', join(v('v1.1.0-elliptic-key'), 'model.sig'), '--pubkey', msFile('keys/signing-key-pub.pem')]);
    expect(key.code, key.stdout).toBe(0);
    const old = await run(['model', 'verify', v('v1.0.1-elliptic-key'), '--sig', join(v('v1.0.1-elliptic-key'), 'model.sig'), '--pubkey', msFile('keys/signing-key-pub.pem'), '--ignore', 'ignore-me']);
    expect(old.code, old.stdout).toBe(0);
    const cert = await run(['model', 'verify', v('v1.1.0-certificate'), '--sig', join(v('v1.1.0-certificate'), 'model.sig'), '--cert', msFile('keys/ca-cert.pem')]);
    expect(cert.code, cert.stdout).toBe(0);
    const keyless = await run(['model', 'verify', v('v1.1.0-sigstore'), '--sig', join(v('v1.1.0-sigstore'), 'model.sig'), '--identity', 'stefanb@us.ibm.com', '--issuer', 'https://sigstore.verify.ibm.com/oauth2', '--trusted-root', msFile('sigstore-public-good-trusted_root.json')]);
    expect(keyless.code, keyless.stdout).toBe(0);
    const legacy = await run(['model', 'verify', v('v0.2.0-certificate'), '--sig', join(v('v0.2.0-certificate'), 'model.sig'), '--cert', msFile('keys/ca-cert.pem'), '--json']);
    expect(legacy.code).toBe(1);
    expect(legacy.json().errors).toEqual([expect.objectContaining({ code: 'ERR_SIG_PREDICATE_LEGACY' })]);
  });
});
