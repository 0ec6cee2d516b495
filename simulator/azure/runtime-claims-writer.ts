import type { KeyObject } from 'node:crypto';
import { HCL_AK_KID, HCL_EK_KID } from '../../attestation/azure/runtime-claims.js';

/** vm-configuration as the paravisor writes it; members left undefined are omitted, as older hosts do. */
export interface SimVmConfiguration {
  readonly consoleEnabled: boolean;
  readonly rootCertThumbprint?: string;
  readonly secureBoot: boolean;
  readonly tpmEnabled: boolean;
  readonly tpmPersisted?: boolean;
  readonly vmUniqueId: string;
}

export interface RuntimeClaimsFields {
  readonly ak: KeyObject;
  readonly ek: KeyObject;
  readonly vmConfiguration: SimVmConfiguration;
  /** The 64 bytes of NV index 0x01400002. */
  readonly userData: Uint8Array;
}

/**
 * The runtime-claims JSON in the paravisor's form, member for member as in the real vectors: compact, keys
 * then vm-configuration (kebab-case, vmUniqueId last) then user-data as 128 upper-case hex digits.
 */
export function encodeRuntimeClaims(f: RuntimeClaimsFields): Buffer {
  const c = f.vmConfiguration;
  const vmConfiguration = {
    'console-enabled': c.consoleEnabled,
    ...(c.rootCertThumbprint !== undefined ? { 'root-cert-thumbprint': c.rootCertThumbprint } : {}),
    'secure-boot': c.secureBoot,
    'tpm-enabled': c.tpmEnabled,
    ...(c.tpmPersisted !== undefined ? { 'tpm-persisted': c.tpmPersisted } : {}),
    vmUniqueId: c.vmUniqueId,
  };
  const claims = {
    keys: [publicJwk(HCL_AK_KID, 'sign', f.ak), publicJwk(HCL_EK_KID, 'encrypt', f.ek)],
    'vm-configuration': vmConfiguration,
    'user-data': Buffer.from(f.userData).toString('hex').toUpperCase(),
  };
  return Buffer.from(JSON.stringify(claims), 'utf8');
}

/** {kid, key_ops, kty, e, n}: the member order Azure uses. */
export function publicJwk(kid: string, op: string, key: KeyObject): { kid: string; key_ops: string[]; kty: 'RSA'; e: string; n: string } {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || typeof jwk.e !== 'string' || typeof jwk.n !== 'string') throw new TypeError(`${kid} must be an RSA key`);
  return { kid, key_ops: [op], kty: 'RSA', e: jwk.e, n: jwk.n };
}
