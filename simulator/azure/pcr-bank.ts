import { createHash } from 'node:crypto';
import { type SeedMaterial, seededBytes } from '../seed.js';

/** A PC-client vTPM has 24 PCRs per bank. */
export const PCR_COUNT = 24;
const DIGEST = 32;

/**
 * The SHA-256 PCR bank of a simulated vTPM, shaped like a booted Azure CVM (compare trustee's evidence):
 * PCRs 0-7 and a few OS PCRs hold boot measurements, 17-22 are all 0xFF (DRTM localities, never reset
 * without a DRTM launch), the rest are zero. Boot measurements are seed-derived, or random without a seed.
 */
export class SimulatedPcrBank {
  private readonly values: Buffer[];

  constructor(seed: SeedMaterial) {
    this.values = Array.from({ length: PCR_COUNT }, (_, i) => Buffer.alloc(DIGEST, i >= 17 && i <= 22 ? 0xff : 0));
    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 14]) this.extend(i, seededBytes(seed, `vtpm/boot-event/${i}`, DIGEST));
  }

  /** TPM2_PCR_Extend: PCR := SHA-256(PCR || digest). */
  extend(index: number, digest: Uint8Array): void {
    this.values[checkIndex(index)] = createHash('sha256').update(this.values[index]!).update(digest).digest();
  }

  read(index: number): Buffer {
    return Buffer.from(this.values[checkIndex(index)]!);
  }

  /** Values of `indices` (default all), as a map by index. */
  readAll(indices: readonly number[] = allPcrs()): Map<number, Buffer> {
    return new Map(indices.map((i) => [i, this.read(i)]));
  }
}

export function allPcrs(): number[] {
  return Array.from({ length: PCR_COUNT }, (_, i) => i);
}

function checkIndex(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= PCR_COUNT) throw new RangeError(`PCR ${index} is not in 0..${PCR_COUNT - 1}`);
  return index;
}
