import { type Product, parseProduct } from '../attestation/snp/product.js';
import { type Tcb, usesTurinLayout } from '../attestation/snp/tcb.js';
import type { SimEvidenceOptions } from './bundle.js';
import type { SignerKind } from './endorsement-certificate.js';
import { ALLOWED_KEY_BITS, FIXTURE_KEY_BITS } from './root-keys.js';

/**
 * Parsers for the textual forms of simulator options (CLI flags, config files). They throw RangeError with
 * a message that names the expected form; callers turn that into their own usage error.
 */

export function parseSimProduct(text: string): Product {
  try {
    return parseProduct(text);
  } catch {
    throw new RangeError(`unknown product "${text}": expected milan, genoa or turin`);
  }
}

export function parseReportVersion(text: string): number {
  const v = Number(text);
  if (!/^\d+$/.test(text) || v < 1 || v > 5) throw new RangeError(`report version "${text}" is not one of 1, 2, 3, 4, 5`);
  return v;
}

/** A u64 policy as hex ("0x30000") or decimal; bit 17 and the reserved bits are left as given. */
export function parsePolicy(text: string): bigint {
  if (!/^(0x[0-9a-f]{1,16}|\d{1,20})$/i.test(text)) throw new RangeError(`policy "${text}" is not a 64-bit number such as 0x30000`);
  const v = BigInt(text);
  if (v >= 1n << 64n) throw new RangeError(`policy "${text}" does not fit in 64 bits`);
  return v;
}

/** Hex bytes, optional 0x prefix; `exact` or `max` bounds the byte count. */
export function parseHexBytes(text: string, name: string, size: { exact?: number; max?: number }): Buffer {
  const hex = text.replace(/^0x/i, '');
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) throw new RangeError(`${name} "${text}" is not hex bytes`);
  const bytes = Buffer.from(hex, 'hex');
  if (size.exact !== undefined && bytes.length !== size.exact) throw new RangeError(`${name} must be ${size.exact} bytes (${size.exact * 2} hex digits), got ${bytes.length}`);
  if (size.max !== undefined && bytes.length > size.max) throw new RangeError(`${name} must be at most ${size.max} bytes, got ${bytes.length}`);
  return bytes;
}

export function parseSigner(text: string): SignerKind {
  const upper = text.toUpperCase();
  if (upper !== 'VCEK' && upper !== 'VLEK') throw new RangeError(`signer "${text}" is not vcek or vlek`);
  return upper;
}

export function parseKeyBits(text: string): number {
  const bits = Number(text);
  if (!(ALLOWED_KEY_BITS as readonly number[]).includes(bits)) throw new RangeError(`key size "${text}" is not one of ${ALLOWED_KEY_BITS.join(', ')}`);
  return bits;
}

const TCB_KEYS: Record<string, keyof Tcb> = { bl: 'bootloader', tee: 'tee', snp: 'snp', ucode: 'microcode', fmc: 'fmc' };

/** "bl=4,tee=0,snp=24,ucode=219[,fmc=0]" (decimal or 0x hex, any subset) over the product's defaults. */
export function parseTcbSpec(text: string, product: Product): Partial<Tcb> {
  const out: { -readonly [K in keyof Tcb]?: number } = {};
  for (const part of text.split(',').filter((p) => p.trim() !== '')) {
    const m = /^\s*(\w+)\s*=\s*(0x[0-9a-f]+|\d+)\s*$/i.exec(part);
    const key = m ? TCB_KEYS[m[1]!.toLowerCase()] : undefined;
    if (!m || !key) throw new RangeError(`TCB part "${part}" is not one of bl=, tee=, snp=, ucode=, fmc= with a number`);
    const value = Number(m[2]);
    if (value > 255) throw new RangeError(`TCB ${m[1]} = ${value} is above 255`);
    if (key === 'fmc' && !usesTurinLayout(product)) throw new RangeError(`fmc= exists only on Turin, not ${product}`);
    out[key] = value;
  }
  return out;
}

/** `writeSimEvidence` options as text, e.g. from CLI flags. */
export interface SimTextOptions {
  readonly product?: string;
  readonly version?: string;
  readonly policy?: string;
  readonly measurement?: string;
  readonly reportData?: string;
  readonly hostData?: string;
  readonly signer?: string;
  readonly tcb?: string;
  readonly seed?: string;
  readonly keyBits?: string;
}

/** Parses every given text option; throws RangeError naming the first bad one. Product defaults to Genoa. */
export function parseSimEvidenceOptions(t: SimTextOptions): SimEvidenceOptions {
  const product = parseSimProduct(t.product ?? 'genoa');
  const keyBits = t.keyBits === undefined ? undefined : parseKeyBits(t.keyBits);
  if (t.seed !== undefined && keyBits !== undefined && keyBits !== FIXTURE_KEY_BITS) {
    throw new RangeError(`a seed selects the committed RSA-${FIXTURE_KEY_BITS} fixture roots; drop the key size or the seed`);
  }
  const opt = <K extends keyof SimTextOptions, T>(key: K, parse: (text: string) => T): Partial<Record<K, T>> => {
    const text = t[key];
    return text === undefined ? {} : ({ [key]: parse(text) } as Partial<Record<K, T>>);
  };
  return {
    product,
    ...opt('version', parseReportVersion),
    ...opt('policy', parsePolicy),
    ...opt('measurement', (x) => parseHexBytes(x, 'measurement', { exact: 48 })),
    ...opt('reportData', (x) => parseHexBytes(x, 'report data', { max: 64 })),
    ...opt('hostData', (x) => parseHexBytes(x, 'host data', { exact: 32 })),
    ...opt('signer', parseSigner),
    ...opt('tcb', (x) => parseTcbSpec(x, product)),
    ...(t.seed === undefined ? {} : { seed: t.seed }),
    ...(keyBits === undefined ? {} : { keyBits }),
  };
}
