import { pointer } from './pointer.js';
import type { ClaimCondition, ReleasePolicy } from './types.js';

/** Something zt4ai evaluates that Azure Key Vault / Managed HSM would reject or not enforce. */
export interface CompatibilityNote {
  readonly path: string;
  readonly message: string;
}

/**
 * Where a policy leaves the subset Azure Key Vault documents: the zt4ai `in` operator, operators other than
 * `equals` (documented as reserved), and x-zt4ai-* claims, which only zt4ai's verifier and key-release service produce.
 */
export function azureCompatibilityNotes(policy: ReleasePolicy): CompatibilityNote[] {
  return policy.anyOf.flatMap((rule, i) => {
    const list = pointer(pointer('/anyOf', i), rule.combinator);
    return rule.conditions.flatMap((c, j) => {
      const at = pointer(list, j);
      if (c.kind === 'claim') return noteClaim(c, at);
      return c.conditions.flatMap((x, k) => noteClaim(x, pointer(pointer(at, c.combinator), k)));
    });
  });
}

function noteClaim(c: ClaimCondition, path: string): CompatibilityNote[] {
  const notes: CompatibilityNote[] = [];
  if (c.operator === 'in') notes.push({ path, message: 'in is a zt4ai extension; for Key Vault write an anyOf of equals conditions' });
  else if (c.operator !== 'equals') notes.push({ path, message: `Key Vault documents ${c.operator} as reserved (only equals is enforced)` });
  if (c.claim.startsWith('x-zt4ai-')) notes.push({ path, message: `${c.claim} comes from zt4ai's verifier or key-release service; Azure Attestation tokens never carry it` });
  return notes;
}
