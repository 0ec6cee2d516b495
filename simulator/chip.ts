import type { Product } from '../attestation/snp/product.js';
import { type Tcb, usesTurinLayout } from '../attestation/snp/tcb.js';
import { PRODUCT_PROFILES } from './defaults.js';
import { type SeedMaterial, seededBytes } from './seed.js';

/** Bytes of CHIP_ID that identify the chip: all 64, or the first 8 on Turin (the rest are zero). */
export function chipIdLength(product: Product): number {
  return usesTurinLayout(product) ? 8 : 64;
}

/**
 * The 64-byte CHIP_ID for a product from a caller's value (64 bytes, or 8 on Turin), or a fresh/seeded one.
 * A Turin chip id must leave bytes 8..63 zero: that is how the part reports it and how KDS names it.
 */
export function resolveChipId(product: Product, given: Uint8Array | undefined, seed: SeedMaterial): Buffer {
  const used = chipIdLength(product);
  const out = Buffer.alloc(64);
  if (given === undefined) {
    seededBytes(seed, `chip-id/${product}`, used).copy(out);
    return out;
  }
  const ok = given.length === 64 || given.length === used;
  if (!ok || (given.length === 64 && given.subarray(used).some((b) => b !== 0))) {
    throw new RangeError(usesTurinLayout(product) ? 'a Turin chip id is 8 bytes (or 64 with bytes 8..63 zero)' : `a ${product} chip id is 64 bytes`);
  }
  Buffer.from(given).copy(out);
  return out;
}

/** The product's default TCB overlaid with `overrides`; every SPL must be an integer in 0..255. */
export function resolveTcb(product: Product, overrides: Partial<Tcb> | undefined, base?: Tcb): Tcb {
  const tcb: Tcb = { ...(base ?? PRODUCT_PROFILES[product].tcb), ...overrides };
  if (!usesTurinLayout(product) && tcb.fmc !== undefined) throw new RangeError(`fmc SPL exists only on Turin, not ${product}`);
  for (const [name, value] of Object.entries(tcb)) {
    if (!Number.isInteger(value) || value < 0 || value > 255) throw new RangeError(`TCB ${name} SPL ${String(value)} is not an integer in 0..255`);
  }
  return usesTurinLayout(product) ? { ...tcb, fmc: tcb.fmc ?? 0 } : tcb;
}
