/** Validity windows shaped like AMD's: ARK/ASK/ASVK 25 years; VCEK/VLEK 7 years, NotBefore backdated a day. */
export interface ValidityWindow {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Seeded runs must not depend on the clock: their certificates are issued at these fixed instants. */
export const SEEDED_CA_ISSUED_AT = new Date('2024-01-01T00:00:00Z');
export const SEEDED_LEAF_ISSUED_AT = new Date('2025-01-01T00:00:00Z');

const DAY_MS = 24 * 60 * 60 * 1000;

function addYears(date: Date, years: number): Date {
  const d = new Date(date);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

export function caValidity(issuedAt: Date): ValidityWindow {
  const notBefore = wholeSeconds(issuedAt);
  return { notBefore, notAfter: addYears(notBefore, 25) };
}

/**
 * KDS backdates NotBefore by about 24 h to absorb verifier clock skew (snp-evidence.md §9.2); the window
 * itself is exactly 7 years from that NotBefore, as in observed VCEKs.
 */
export function leafValidity(issuedAt: Date): ValidityWindow {
  const notBefore = new Date(wholeSeconds(issuedAt).getTime() - DAY_MS);
  return { notBefore, notAfter: addYears(notBefore, 7) };
}
