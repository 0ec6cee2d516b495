import type { Product } from './product.js';

/**
 * TCB_VERSION security patch levels. The byte layout is keyed on the processor, not the report version
 * (shared/docs/snp-evidence.md §6): Milan/Genoa BL@0 TEE@1 SNP@6 UCODE@7; Turin FMC@0 BL@1 TEE@2 SNP@3 UCODE@7.
 */
export interface Tcb {
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** Turin only. */
  readonly fmc?: number;
}

export const TCB_COMPONENTS = ['bootloader', 'tee', 'snp', 'microcode', 'fmc'] as const;
export type TcbComponent = (typeof TCB_COMPONENTS)[number];

const LEGACY = { bootloader: 0, tee: 1, snp: 6, microcode: 7 } as const;
const TURIN = { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7 } as const;

export function usesTurinLayout(product: Product): boolean {
  return product === 'Turin';
}

export function decodeTcb(raw: Uint8Array, product: Product): Tcb {
  if (usesTurinLayout(product)) {
    return {
      bootloader: raw[TURIN.bootloader]!,
      tee: raw[TURIN.tee]!,
      snp: raw[TURIN.snp]!,
      microcode: raw[TURIN.microcode]!,
      fmc: raw[TURIN.fmc]!,
    };
  }
  return {
    bootloader: raw[LEGACY.bootloader]!,
    tee: raw[LEGACY.tee]!,
    snp: raw[LEGACY.snp]!,
    microcode: raw[LEGACY.microcode]!,
  };
}

export function encodeTcb(tcb: Tcb, product: Product): Buffer {
  const out = Buffer.alloc(8);
  const map = usesTurinLayout(product) ? TURIN : LEGACY;
  out[map.bootloader] = tcb.bootloader;
  out[map.tee] = tcb.tee;
  out[map.snp] = tcb.snp;
  out[map.microcode] = tcb.microcode;
  if ('fmc' in map) out[map.fmc] = tcb.fmc ?? 0;
  return out;
}

/** Bytes that the product's layout leaves reserved; they must be zero in a well-formed TCB. */
export function tcbReservedBytesZero(raw: Uint8Array, product: Product): boolean {
  const used: readonly number[] = Object.values(usesTurinLayout(product) ? TURIN : LEGACY);
  return raw.every((b, i) => used.includes(i) || b === 0);
}

/** Components present for the product (fmc only on Turin). */
export function tcbComponents(product: Product): readonly TcbComponent[] {
  return usesTurinLayout(product) ? TCB_COMPONENTS : TCB_COMPONENTS.filter((c) => c !== 'fmc');
}

/**
 * Component-wise comparison (never as one integer: a higher microcode SPL must not mask a lower SNP SPL,
 * go-sev-guest PR 59). Returns the components where `a` is below `b`.
 */
export function componentsBelow(a: Tcb, b: Tcb, product: Product): TcbComponent[] {
  return tcbComponents(product).filter((c) => (a[c] ?? 0) < (b[c] ?? 0));
}

export function componentsDiffering(a: Tcb, b: Tcb, product: Product): TcbComponent[] {
  return tcbComponents(product).filter((c) => (a[c] ?? 0) !== (b[c] ?? 0));
}

export function formatTcb(tcb: Tcb): string {
  const fmc = tcb.fmc === undefined ? '' : `fmc=${tcb.fmc} `;
  return `${fmc}bl=${tcb.bootloader} tee=${tcb.tee} snp=${tcb.snp} ucode=${tcb.microcode}`;
}
