import { type KeyObject, generateKeyPair } from 'node:crypto';
import { rsaKeyFromPrimes } from '../rsa-primes.js';
import { SIM_VTPM_KEYS } from './fixtures/sim-vtpm-keys.js';

/** The private halves of a simulated vTPM's attestation key (AK) and endorsement key (EK). */
export interface VtpmKeys {
  readonly ak: KeyObject;
  readonly ek: KeyObject;
}

/** Azure's vTPM keys are RSA-2048 (the modulus length of every HCLAkPub/HCLEkPub in the vectors). */
export const VTPM_KEY_BITS = 2048;

/** The committed SIMULATED keys behind seeded vTPMs (fixtures/sim-vtpm-keys.ts), as root-keys.ts does for the AMD roots. */
export function fixtureVtpmKeys(): VtpmKeys {
  return { ak: rsaKeyFromPrimes(SIM_VTPM_KEYS.ak), ek: rsaKeyFromPrimes(SIM_VTPM_KEYS.ek) };
}

function generateRsa(): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: VTPM_KEY_BITS, publicExponent: 65537 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv)));
  });
}

/** Fresh random keys, made in parallel on libuv's thread pool. */
export async function generateVtpmKeys(): Promise<VtpmKeys> {
  const [ak, ek] = await Promise.all([generateRsa(), generateRsa()]);
  return { ak, ek };
}
