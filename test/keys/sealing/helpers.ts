import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { type DataKeyUnwrapper, type DataKeyWrapper, rsaOaepUnwrapper, rsaOaepWrapper } from '../../../keys/sealing/data-keys.js';

/** One RSA-3072 pair for the whole file: generation is slow. */
let cached: { publicPem: string; privatePem: string } | undefined;
export function rsaPair(): { publicPem: string; privatePem: string } {
  if (!cached) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
    cached = { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }
  return cached;
}

export function rsaKeys(kid = 'kek-1'): { wrapper: DataKeyWrapper; unwrapper: DataKeyUnwrapper } {
  const p = rsaPair();
  return { wrapper: rsaOaepWrapper(p.publicPem, kid), unwrapper: rsaOaepUnwrapper(p.privatePem) };
}

/** XORs one bit at `offset` of a file. */
export function flipAt(path: string, offset: number): void {
  const b = readFileSync(path);
  b[offset] = b[offset]! ^ 0x01;
  writeFileSync(path, b);
}

/** Runs `fn` and returns the code of the KeyError it throws (or 'none'). */
export async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'none';
  } catch (e) {
    return (e as { code?: string }).code ?? `untyped: ${String(e)}`;
  }
}
