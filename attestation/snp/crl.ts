// placeholder until the CRL module lands
import type { AttestationError } from '../errors.js';
import type { ParsedCertificate } from './certificate.js';
import type { TrustAnchor } from './trust.js';
export interface VerifiedCrl { revokedSerials: ReadonlySet<string> }
export function verifyCrl(_d: Uint8Array, _a: TrustAnchor, _n: Date): VerifiedCrl { return { revokedSerials: new Set() }; }
export function checkRevoked(_c: ParsedCertificate[], _crl: VerifiedCrl): AttestationError[] { return []; }
