import { type KeyObject, generateKeyPair } from 'node:crypto';
import type { Product } from '../attestation/snp/product.js';
import { SIM_ROOT_KEYS } from './fixtures/sim-root-keys.js';
import { rsaKeyFromPrimes } from './rsa-primes.js';

export const CA_ROLES = ['ark', 'ask', 'asvk'] as const;
export type CaRole = (typeof CA_ROLES)[number];

/** The RSA private keys of one product's simulated ARK, ASK and ASVK. */
export type RootKeys = Readonly<Record<CaRole, KeyObject>>;

export const ALLOWED_KEY_BITS = [2048, 3072, 4096] as const;
/** AMD's ARK/ASK/ASVK are RSA-4096. */
export const DEFAULT_KEY_BITS = 4096;
/** The committed fixture keys are RSA-2048: small in the repository, fast in tests. */
export const FIXTURE_KEY_BITS = SIM_ROOT_KEYS.keyBits;

function generateRsa(bits: number): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: bits, publicExponent: 65537 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv)));
  });
}

/**
 * Fresh random keys. Generation runs on libuv's thread pool, so the three keys of a product (and several
 * products) are made in parallel; RSA-4096 still takes seconds, hence `onKey` for progress.
 */
export async function generateRootKeys(bits: number, onKey?: (role: CaRole) => void): Promise<RootKeys> {
  if (!(ALLOWED_KEY_BITS as readonly number[]).includes(bits)) {
    throw new RangeError(`RSA key size ${bits} is not one of ${ALLOWED_KEY_BITS.join(', ')}`);
  }
  const [ark, ask, asvk] = await Promise.all(
    CA_ROLES.map(async (role) => {
      const key = await generateRsa(bits);
      onKey?.(role);
      return key;
    }),
  );
  return { ark: ark!, ask: ask!, asvk: asvk! };
}

/** The committed SIMULATED, test-only keys for seeded runs (simulator/fixtures/sim-root-keys.ts). */
export function fixtureRootKeys(product: Product): RootKeys {
  const primes = SIM_ROOT_KEYS.products[product];
  return { ark: rsaKeyFromPrimes(primes.ark), ask: rsaKeyFromPrimes(primes.ask), asvk: rsaKeyFromPrimes(primes.asvk) };
}
