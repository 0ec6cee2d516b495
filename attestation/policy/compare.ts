import type { ScalarValue } from './types.js';

/** An exact integer (decimal or 0x hex, any size) or a finite decimal fraction. */
export type Numeric = { readonly int: bigint } | { readonly float: number };

const INTEGER = /^[+-]?\d+$/;
const HEX = /^0[xX][0-9a-fA-F]+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Longer digit strings are not numbers for policy purposes (and would make BigInt parsing slow). */
const MAX_NUMERIC_LENGTH = 4096;

/**
 * The numeric reading of a value for ordered operators: finite numbers; decimal strings; and 0x-prefixed hex
 * strings, because zt4ai writes bit fields such as x-zt4ai-guest-policy that way. Integers compare exactly as
 * BigInt. Anything else (booleans, words, whitespace, "1e400") is not numeric: the caller fails the clause.
 */
export function toNumeric(v: unknown): Numeric | null {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    return Number.isInteger(v) ? { int: BigInt(v) } : { float: v };
  }
  if (typeof v !== 'string' || v.length > MAX_NUMERIC_LENGTH) return null;
  if (INTEGER.test(v) || HEX.test(v)) return { int: BigInt(v) };
  if (!DECIMAL.test(v)) return null;
  const n = Number(v);
  return Number.isFinite(n) ? { float: n } : null;
}

/** -1, 0 or 1. Two integers compare exactly; otherwise as doubles. */
export function compareNumeric(a: Numeric, b: Numeric): -1 | 0 | 1 {
  if ('int' in a && 'int' in b) return a.int < b.int ? -1 : a.int > b.int ? 1 : 0;
  const x = 'int' in a ? Number(a.int) : a.float;
  const y = 'int' in b ? Number(b.int) : b.float;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Key Vault compares equality by string form: a policy's "true" matches a boolean claim true and "0" matches
 * the number 0 (seen on a real Managed HSM). Objects, arrays and null have no string form (null result).
 */
export function stringForm(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

export function isScalar(v: unknown): v is ScalarValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}
