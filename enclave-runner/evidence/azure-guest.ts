import { type KeyObject, createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AZURE_GUEST_PCRS, GUEST_RUNTIME_DATA_PAYLOAD, TPM_EPHEMERAL_KID, decodeQuoteSignature, parseTpm2bPublic } from '../../attestation/azure/index.js';
import type { TeeDecryptor } from '../../keys/wrap/key-hsm.js';
import type { InnerKeyDecrypt } from '../../keys/wrap/maa-envelope.js';
import { RunnerError } from '../errors.js';
import { type SnpEvidence, certificateChainPem } from './source.js';
import { AK_CERT_NV_INDEX, AZURE_AK_HANDLE, HCL_REPORT_NV_INDEX, type PcrSelection, type TpmDevice, USER_DATA_NV_INDEX } from './tpm-device.js';
import { type VcekChainOptions, fetchVcekChain } from './vcek-chain.js';
import { readHcl, verifiedQuote } from './vtpm-reads.js';

/** Where Linux exposes the firmware's TCG event log (what Microsoft's library sends as TcgLogs). */
export const TCG_LOG_PATH = '/sys/kernel/security/tpm0/binary_bios_measurements';
/** The PCRs Microsoft's Linux library quotes and binds the ephemeral key to (GetAttestationPcrList). */
const GUEST_PCRS: PcrSelection = { bank: 'sha256', pcrs: AZURE_GUEST_PCRS };
const MAX_TCG_LOG = 16 * 1024 * 1024;
/**
 * The ClientPayload entry with the runner's configuration digest (hex): a release policy pins it as
 * `x-ms-runtime.client-payload.zt4ai-config` equals base64 of the hex string.
 */
export const CONFIG_PAYLOAD = 'zt4ai-config';

export interface AzureGuestOptions extends VcekChainOptions {
  /** The TCG event log; default TCG_LOG_PATH. A missing file sends an empty log, as Microsoft's library does. */
  readonly tcgLogPath?: string;
  /** /etc/os-release, for OSType/OSDistro/OSVersion. */
  readonly osReleasePath?: string;
}

/** What the caller puts into the evidence: its runtime data (around the ephemeral key) and ClientPayload entries. */
export interface GuestEvidenceRequest {
  readonly runtimeDataFor: (key: EphemeralTeeKey) => Buffer;
  /** Plain strings; AttestationInfo carries them base64-encoded and MAA reports them so. */
  readonly clientPayload: Readonly<Record<string, string>>;
}

/** MAA's AzureGuest request, ready to send, and how to open the answer. */
export interface AzureGuestEvidence {
  /** The AttestationInfo JSON (the request body carries base64url of it). */
  readonly attestationInfo: Record<string, unknown>;
  readonly hclReport: Buffer;
  /** Opens MAA's envelope: RSAES-PKCS1-v1_5 with the ephemeral key, in the TPM. */
  readonly decryptInnerKey: InnerKeyDecrypt;
}

/** The ephemeral key as the runner uses it: the JWK MAA will publish, and a decryptor that asks the TPM. */
export interface EphemeralTeeKey {
  readonly publicJwk: { readonly kty: 'RSA'; readonly kid: string; readonly n: string; readonly e: string; readonly key_ops: readonly ['encrypt'] };
  readonly bits: number;
  readonly privateKey: TeeDecryptor;
}

/**
 * Microsoft's guest attestation, done with tpm2-tools (confidential-computing-cvm-guest-attestation,
 * AttestationClientImpl `getAttestationParameters`):
 *  1. the ephemeral key, made under PolicyPCR over SHA-256 PCRs 0-7 and certified by the AK; the runtime data
 *     (built by the caller around that key's JWK) goes into ClientPayload as `zt4ai-runtime-data`, next to the
 *     caller's entries (the runner's `zt4ai-config`, which a release policy can pin);
 *  2. SHA-256(runtime data) ‖ zeros as user data to NV 0x01400002 (on Azure the paravisor then re-issues the
 *     HCL report with it), the HCL report from NV 0x01400001, whose runtime claims must be bound and name the AK;
 *  3. TPM2_Quote by the AK over PCRs 0-7 (no qualifying data, as the library), checked here;
 *  4. the AK's public area and certificate (NV 0x01C101D0), the TCG log, the VCEK chain from THIM (else KDS),
 *     /etc/os-release, all in AttestationInfo (ClientPayload values base64-encoded, as the library does).
 */
export async function collectGuestEvidence(device: TpmDevice, request: GuestEvidenceRequest, options: AzureGuestOptions = {}): Promise<{ evidence: SnpEvidence; key: EphemeralTeeKey; runtimeData: Buffer }> {
  // First make sure this is an Azure vTPM: on any other TPM the runner must not define NV indices.
  await device.nvRead(HCL_REPORT_NV_INDEX);
  const eph = await device.ephemeralKey(AZURE_AK_HANDLE, GUEST_PCRS);
  const key = ephemeralTeeKey(device, eph.public);
  const runtimeData = request.runtimeDataFor(key);
  await device.nvWrite(USER_DATA_NV_INDEX, Buffer.concat([createHash('sha256').update(runtimeData).digest(), Buffer.alloc(32)]));
  const hclBytes = await device.nvRead(HCL_REPORT_NV_INDEX);
  const { hcl, ak } = readHcl(hclBytes);
  const quote = await verifiedQuote(device, ak, Buffer.alloc(0), GUEST_PCRS);
  const [akCert, akPub, tcgLog, os, chain] = await Promise.all([
    device.nvRead(AK_CERT_NV_INDEX),
    device.readPublic(AZURE_AK_HANDLE),
    readTcgLog(options.tcgLogPath ?? TCG_LOG_PATH),
    osInfo(options.osReleasePath ?? '/etc/os-release'),
    fetchVcekChain(hcl.snpReport, options),
  ]);
  // As Microsoft's library: base64 of the PEM VCEK and chain (ImdsOperations.cpp GetVCekCert).
  const pem = certificateChainPem(chain.certificates);
  const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');
  const attestationInfo = {
    AttestationProtocolVersion: '2.0',
    OSType: b64('Linux'),
    OSDistro: b64(os.distro),
    OSVersionMajor: os.major,
    OSVersionMinor: os.minor,
    // Microsoft's library sends this literal for Linux; MAA ignores it there.
    OSBuild: b64('NotApplication'),
    TcgLogs: b64(tcgLog),
    ClientPayload: Object.fromEntries(Object.entries({ ...request.clientPayload, [GUEST_RUNTIME_DATA_PAYLOAD]: runtimeData.toString('utf8') }).map(([k, v]) => [k, b64(v)])),
    TpmInfo: {
      AikCert: b64(akCert),
      AikPub: b64(akPub),
      PcrQuote: b64(quote.message),
      PcrSignature: b64(rsaSignature(quote.signature, ak)),
      EncKeyPub: b64(eph.public),
      EncKeyCertifyInfo: b64(eph.certifyInfo),
      EncKeyCertifyInfoSignature: b64(eph.signature),
      PcrSet: [...GUEST_PCRS.pcrs],
      PCRs: [...quote.pcrs].map(([index, digest]) => ({ Index: index, Digest: b64(digest) })),
    },
    IsolationInfo: {
      Type: 'SevSnp',
      Evidence: { Proof: b64(JSON.stringify({ SnpReport: hcl.snpReport.toString('base64url'), VcekCertChain: b64(pem) })), RunTimeData: b64(hcl.runtimeClaims) },
    },
  };
  const decryptInnerKey: InnerKeyDecrypt = (ct) => tpmDecrypt(device, eph.public, ct, 'rsaes');
  return { evidence: { report: hcl.snpReport, certificates: chain.certificates, azureGuest: { attestationInfo, hclReport: hclBytes, decryptInnerKey } }, key, runtimeData };
}

function ephemeralTeeKey(device: TpmDevice, certified: Buffer): EphemeralTeeKey {
  const pub = parseTpm2bPublic(certified);
  const jwk = pub.key.export({ format: 'jwk' });
  return {
    publicJwk: { kty: 'RSA', kid: TPM_EPHEMERAL_KID, n: jwk.n!, e: jwk.e!, key_ops: ['encrypt'] },
    bits: pub.rsa.keyBits,
    privateKey: {
      modulusBytes: pub.rsa.keyBits / 8,
      decrypt: async (wrapped, enc) => {
        // tpm2_rsadecrypt's OAEP uses the key's name hash, SHA-256: Key Vault's RSA_AES_KEY_WRAP_256.
        if (enc !== 'RSA_AES_KEY_WRAP_256') throw new RunnerError('ERR_RUNNER_CONFIG', `the vTPM's ephemeral key unwraps RSA_AES_KEY_WRAP_256 only; the release used ${enc} (set keySource.enc to RSA_AES_KEY_WRAP_256)`);
        return tpmDecrypt(device, certified, wrapped, 'oaep');
      },
    },
  };
}

/** Decrypts with the re-created ephemeral key; a key other than the certified one means a PCR moved since. */
async function tpmDecrypt(device: TpmDevice, certified: Buffer, ciphertext: Buffer, scheme: 'rsaes' | 'oaep'): Promise<Buffer> {
  const out = await device.ephemeralDecrypt(GUEST_PCRS, ciphertext, scheme);
  if (!out.public.equals(certified)) {
    out.plaintext.fill(0);
    throw new RunnerError('ERR_RUNNER_TPM', 'the vTPM re-created another ephemeral key than the one it certified: a PCR among 0-7 changed since the evidence was collected, or the VM rebooted');
  }
  return out.plaintext;
}

/** MAA's PcrSignature is the bare RSA signature; tpm2_quote writes it inside a TPMT_SIGNATURE. */
function rsaSignature(tpmtSignature: Buffer, ak: KeyObject): Buffer {
  const sig = decodeQuoteSignature(tpmtSignature, ak);
  if (sig.scheme === 'ecdsa') throw new RunnerError('ERR_RUNNER_EVIDENCE', "the vTPM's AK signed the quote with ECDSA; Azure's AK is RSA");
  return sig.sig;
}

async function readTcgLog(path: string): Promise<Buffer> {
  try {
    const log = await readFile(path);
    if (log.length > MAX_TCG_LOG) throw new RunnerError('ERR_RUNNER_EVIDENCE', `the TCG event log ${path} is larger than ${MAX_TCG_LOG} bytes`);
    return log;
  } catch (e) {
    if (e instanceof RunnerError) throw e;
    // As Microsoft's library: no log (no securityfs, or not readable) is sent as an empty one, and MAA says so.
    return Buffer.alloc(0);
  }
}

async function osInfo(path: string): Promise<{ distro: string; major: number; minor: number }> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const field = (name: string): string | undefined => new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm').exec(text)?.[1];
  const [major = '0', minor = '0'] = (field('VERSION_ID') ?? '0').split('.');
  return { distro: field('NAME') ?? 'Linux', major: Number.parseInt(major, 10) || 0, minor: Number.parseInt(minor, 10) || 0 };
}
