import type { KeyObject } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { findDuplicateKeys } from '../policy/duplicate-keys.js';
import { rsaPublicKeyFromJwk } from './tpm-keys.js';

/** kid of the vTPM attestation key (persistent handle 0x81000003) and endorsement key (azure-protocols.md §1.6). */
export const HCL_AK_KID = 'HCLAkPub';
export const HCL_EK_KID = 'HCLEkPub';

/** A key of the runtime claims: its JWK exactly as embedded, and the imported public key. */
export interface RuntimeKey {
  readonly kid: string;
  readonly keyOps: readonly string[];
  readonly jwk: Readonly<Record<string, unknown>>;
  readonly key: KeyObject;
}

/** `vm-configuration` members the paravisor writes (openvmm AttestationVmConfig); all optional here. */
export interface VmConfiguration {
  readonly secureBoot?: boolean;
  readonly tpmEnabled?: boolean;
  readonly tpmPersisted?: boolean;
  readonly consoleEnabled?: boolean;
  readonly vmUniqueId?: string;
  readonly rootCertThumbprint?: string;
  readonly currentTime?: number;
}

/** The runtime claims of an HCL report. Trust them only once REPORT_DATA is shown to bind the bytes. */
export interface RuntimeClaims {
  /** The parsed JSON, reported as `x-ms-runtime` (MAA's name for it). */
  readonly json: Readonly<Record<string, unknown>>;
  readonly ak: RuntimeKey;
  readonly ek: RuntimeKey | null;
  readonly vmConfiguration: VmConfiguration | null;
  /** `user-data`: the 64 bytes the guest wrote to NV index 0x01400002, or null when absent. */
  readonly userData: Buffer | null;
}

const BOOLEANS = { 'secure-boot': 'secureBoot', 'tpm-enabled': 'tpmEnabled', 'tpm-persisted': 'tpmPersisted', 'console-enabled': 'consoleEnabled' } as const;
const STRINGS = { vmUniqueId: 'vmUniqueId', 'root-cert-thumbprint': 'rootCertThumbprint' } as const;

function bad(message: string, cause?: unknown): AttestationError {
  return new AttestationError('ERR_HCL_RUNTIME_CLAIMS', message, cause === undefined ? undefined : { cause });
}

/**
 * Parses the runtime-claims JSON (strict UTF-8, no duplicate object keys: another parser must not read a
 * different document out of the same hashed bytes). Requires exactly one HCLAkPub, an RSA key whose
 * key_ops include "sign" (as in every real vector); HCLEkPub is optional. Throws ERR_HCL_* codes.
 */
export function parseRuntimeClaims(bytes: Uint8Array): RuntimeClaims {
  const json = readRuntimeClaimsJson(bytes);
  const keys = json.keys;
  if (!Array.isArray(keys)) throw bad('runtime claims have no "keys" array');
  const ak = findKey(keys, HCL_AK_KID);
  if (!ak) throw new AttestationError('ERR_HCL_AK_MISSING', `the runtime claims "keys" array has no key with kid "${HCL_AK_KID}"`);
  if (!ak.keyOps.includes('sign')) {
    throw new AttestationError('ERR_HCL_KEY_INVALID', `${HCL_AK_KID}: key_ops ${JSON.stringify(ak.keyOps)} do not include "sign"; the attestation key signs quotes`);
  }
  return { json, ak, ek: findKey(keys, HCL_EK_KID), vmConfiguration: parseVmConfiguration(json['vm-configuration']), userData: parseUserData(json['user-data']) };
}

/** The runtime-claims JSON object alone (strict UTF-8, no duplicate keys), for showing what a report carries. */
export function readRuntimeClaimsJson(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  let value: unknown;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so JSON.parse refuses it as serde does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    value = JSON.parse(text);
  } catch (cause) {
    throw bad('runtime claims are not UTF-8 JSON', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('runtime claims are not a JSON object');
  const duplicates = findDuplicateKeys(text, 3);
  if (duplicates.length > 0) throw bad(`runtime claims repeat the key(s) ${duplicates.join(', ')}; a repeated key reads differently in different parsers`);
  return value as Record<string, unknown>;
}

function findKey(keys: readonly unknown[], kid: string): RuntimeKey | null {
  const matches = keys.filter((k) => typeof k === 'object' && k !== null && (k as Record<string, unknown>).kid === kid) as Record<string, unknown>[];
  if (matches.length > 1) throw bad(`runtime claims carry ${matches.length} keys with kid "${kid}"`);
  const jwk = matches[0];
  if (!jwk) return null;
  const keyOps = jwk.key_ops ?? [];
  if (!Array.isArray(keyOps) || !keyOps.every((op) => typeof op === 'string')) {
    throw new AttestationError('ERR_HCL_KEY_INVALID', `${kid}: key_ops is not an array of strings`);
  }
  return { kid, keyOps, jwk, key: rsaPublicKeyFromJwk(jwk, kid) };
}

function parseVmConfiguration(value: unknown): VmConfiguration | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('"vm-configuration" is not an object');
  const v = value as Record<string, unknown>;
  const out: Record<string, boolean | string | number> = {};
  for (const [name, field] of Object.entries(BOOLEANS)) copyTyped(v, name, field, 'boolean', out);
  for (const [name, field] of Object.entries(STRINGS)) copyTyped(v, name, field, 'string', out);
  copyTyped(v, 'current-time', 'currentTime', 'number', out);
  return out as VmConfiguration;
}

function copyTyped(v: Record<string, unknown>, name: string, field: string, type: 'boolean' | 'string' | 'number', out: Record<string, boolean | string | number>): void {
  const x = v[name];
  if (x === undefined) return;
  if (typeof x !== type) throw bad(`"vm-configuration"."${name}" is ${JSON.stringify(x)}; expected a ${type}`);
  out[field] = x as boolean | string | number;
}

/** Azure writes the 64 NV bytes as 128 upper-case hex digits; accept either case, up to 64 bytes. */
function parseUserData(value: unknown): Buffer | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2}){0,64}$/.test(value)) throw bad('"user-data" is not a hex string of at most 64 bytes');
  return Buffer.from(value, 'hex');
}
