/** A claim found in a claim set, or not. `undefined` counts as absent, as it would after a JSON round trip. */
export type ClaimLookup = { readonly present: true; readonly value: unknown } | { readonly present: false };

const ABSENT: ClaimLookup = { present: false };

/**
 * Finds a claim the way Key Vault names them: first the whole name as a flat key (MAA's flat
 * `x-ms-sevsnpvm-vmpl`), then as a dotted path through nested objects (`x-ms-isolation-tee.x-ms-attestation-type`,
 * `x-zt4ai-reported-tcb.snp`). Only own properties are read, so names like "constructor" or "__proto__" never
 * reach the prototype. Arrays are not indexed: a path that meets an array stops there.
 */
export function lookupClaim(claims: object, name: string): ClaimLookup {
  const flat = own(claims, name);
  if (flat.present || !name.includes('.')) return flat;
  let node: ClaimLookup = { present: true, value: claims };
  for (const segment of name.split('.')) {
    if (!node.present || !isRecord(node.value)) return ABSENT;
    node = own(node.value, segment);
  }
  return node;
}

function own(obj: object, key: string): ClaimLookup {
  if (!Object.hasOwn(obj, key)) return ABSENT;
  const value: unknown = (obj as Record<string, unknown>)[key];
  return value === undefined ? ABSENT : { present: true, value };
}

function isRecord(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
