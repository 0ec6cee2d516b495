import { type KeyObject, createPublicKey, generateKeyPair, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { AZURE_GUEST_PCRS } from '../../attestation/azure/guest-tpm.js';
import { parseHclReport } from '../../attestation/azure/hcl.js';
import { policyPcrDigest } from '../../attestation/azure/policy-pcr.js';
import { parseTcgLog, replayTcgLog } from '../../attestation/azure/tcg-log.js';
import { pcrDigest } from '../../attestation/azure/tpm-pcrs.js';
import type { SimVtpmCa } from './ak-ca.js';
import { type BootEvent, defaultBootEvents, writeTcgLog } from './tcg-log-writer.js';
import { AK_ATTRIBUTES, EPHEMERAL_KEY_ATTRIBUTES, encodeCertifyAttest, encodeQuoteAttest, encodeRsaTpm2bPublic, encodeRsaTpmtPublic, rsaAkName, tpmName } from './tpm-writer.js';
import type { SimulatedVtpm } from './vtpm.js';

const generate = promisify(generateKeyPair);
const CLOCK = { clock: 1_000_000n, resetCount: 1, restartCount: 0, safe: true };
const FIRMWARE_VERSION = 0x2020031200120003n;

export interface SimulatedGuestOptions {
  /** The vTPM whose HCL report (SNP report, runtime claims with the AK) and AK the request carries. */
  readonly vtpm: SimulatedVtpm;
  /** Issues the AK certificate of NV 0x01C101D0. */
  readonly akCa: SimVtpmCa;
  /** The VCEK, ASK and ARK as PEM (IsolationInfo's VcekCertChain). */
  readonly vcekChainPem: string;
  /** Plain strings; AttestationInfo carries them base64-encoded. */
  readonly clientPayload?: Readonly<Record<string, string>>;
  /** The boot measured into PCRs 0-7 and logged (default defaultBootEvents(); [] sends no log). */
  readonly bootEvents?: readonly BootEvent[];
}

/** A simulated AzureGuest request and what only the vTPM would know. */
export interface SimulatedGuestRequest {
  /** The AttestationInfo JSON, as Microsoft's guest attestation library builds it. */
  readonly attestationInfo: Record<string, unknown>;
  /** The ephemeral key's private half: a real vTPM never lets it out; tests open MAA's answer with it. */
  readonly encryptionKey: KeyObject;
  /** SHA-256 PCRs 0-7 as quoted. */
  readonly pcrs: ReadonlyMap<number, Buffer>;
}

/**
 * MAA AzureGuest evidence from a SIMULATED vTPM, in process (no swtpm): the HCL report's SNP report and runtime
 * claims, PCRs 0-7 as the logged boot leaves them (from zero), TPM2_Quote over them by the AK (no qualifying
 * data), a fresh RSA-2048 ephemeral key whose authPolicy is PolicyPCR over them, TPM2_Certify of it by the AK,
 * the AK's TPM2B_PUBLIC and certificate, and the TCG log. Byte layouts are those of tpm2-tools' output.
 */
export async function simulatedGuestRequest(o: SimulatedGuestOptions): Promise<SimulatedGuestRequest> {
  const hcl = parseHclReport(o.vtpm.hclReport());
  const ak = createPublicKey(o.vtpm.akPrivateKey);
  const events = o.bootEvents ?? defaultBootEvents();
  const log = events.length === 0 ? Buffer.alloc(0) : writeTcgLog(events).log;
  const replayed = log.length === 0 ? new Map<number, Buffer>() : replayTcgLog(parseTcgLog(log), 'sha256');
  const pcrs = new Map(AZURE_GUEST_PCRS.map((i) => [i, replayed.get(i) ?? Buffer.alloc(32)]));
  const values = AZURE_GUEST_PCRS.map((i) => pcrs.get(i)!);
  const quote = encodeQuoteAttest({
    qualifiedSigner: rsaAkName(ak),
    extraData: Buffer.alloc(0),
    clockInfo: CLOCK,
    firmwareVersion: FIRMWARE_VERSION,
    selection: [{ hash: 'sha256', pcrs: AZURE_GUEST_PCRS }],
    pcrDigest: pcrDigest('sha256', AZURE_GUEST_PCRS.map((index, i) => ({ hash: 'sha256', index, value: values[i]! }))),
  });
  const { privateKey } = await generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
  const encKey = { key: createPublicKey(privateKey), attributes: EPHEMERAL_KEY_ATTRIBUTES, authPolicy: policyPcrDigest('sha256', { hash: 'sha256', pcrs: AZURE_GUEST_PCRS }, values) };
  const name = tpmName(encodeRsaTpmtPublic(encKey));
  const certify = encodeCertifyAttest({ qualifiedSigner: rsaAkName(ak), extraData: Buffer.alloc(0), clockInfo: CLOCK, firmwareVersion: FIRMWARE_VERSION, name, qualifiedName: name });
  const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64');
  const attestationInfo = {
    AttestationProtocolVersion: '2.0',
    OSType: b64('Linux'),
    OSDistro: b64('Ubuntu'),
    OSVersionMajor: 24,
    OSVersionMinor: 4,
    OSBuild: b64('NotApplication'),
    TcgLogs: b64(log),
    ClientPayload: Object.fromEntries(Object.entries(o.clientPayload ?? {}).map(([k, v]) => [k, b64(v)])),
    TpmInfo: {
      AikCert: b64(await o.akCa.issueAkCertificate(ak, o.vtpm.vmConfiguration.vmUniqueId)),
      AikPub: b64(encodeRsaTpm2bPublic({ key: ak, attributes: AK_ATTRIBUTES, rsassaSha256: true })),
      PcrQuote: b64(quote),
      PcrSignature: b64(sign('sha256', quote, o.vtpm.akPrivateKey)),
      EncKeyPub: b64(encodeRsaTpm2bPublic(encKey)),
      EncKeyCertifyInfo: b64(certify),
      EncKeyCertifyInfoSignature: b64(sign('sha256', certify, o.vtpm.akPrivateKey)),
      PcrSet: [...AZURE_GUEST_PCRS],
      PCRs: AZURE_GUEST_PCRS.map((i) => ({ Index: i, Digest: b64(pcrs.get(i)!) })),
    },
    IsolationInfo: {
      Type: 'SevSnp',
      Evidence: { Proof: b64(JSON.stringify({ SnpReport: hcl.snpReport.toString('base64url'), VcekCertChain: b64(o.vcekChainPem) })), RunTimeData: b64(hcl.runtimeClaims) },
    },
  };
  return { attestationInfo, encryptionKey: privateKey, pcrs };
}
