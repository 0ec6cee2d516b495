import { AttestationError } from '../errors.js';

/** KDS product lines. Siena and Bergamo (Zen 4c) are served by the "Genoa" product. */
export const PRODUCTS = ['Milan', 'Genoa', 'Turin'] as const;
export type Product = (typeof PRODUCTS)[number];

export interface Cpuid {
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
}

export function isProduct(value: string): value is Product {
  return (PRODUCTS as readonly string[]).includes(value);
}

/**
 * Maps CPUID family/model to the KDS product line (virtee/sev Generation::identify_cpu; model 0xA0..0xAF
 * inclusive is Genoa-family, where trustee's exclusive range drops 0xAF). Returns null for unknown parts.
 */
export function productFromCpuid(cpuid: Cpuid): Product | null {
  const { family, model } = cpuid;
  if (family === 0x19 && model <= 0x0f) return 'Milan';
  if (family === 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))) return 'Genoa';
  if (family === 0x1a && model <= 0x11) return 'Turin';
  return null;
}

/** Product from an AMD certificate common name: "SEV-Milan", "SEV-VLEK-Genoa", "ARK-Turin". */
export function productFromCommonName(cn: string): Product | null {
  const m = /^(?:SEV-VLEK-|SEV-|ARK-)(Milan|Genoa|Turin)$/.exec(cn);
  return m ? (m[1] as Product) : null;
}

export function parseProduct(value: string): Product {
  const normalized = value.charAt(0).toUpperCase() + value.slice(1).toLowerCase();
  if (!isProduct(normalized)) {
    throw new AttestationError('ERR_INPUT', `unknown product "${value}": expected one of ${PRODUCTS.join(', ')}`);
  }
  return normalized;
}
