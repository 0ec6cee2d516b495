import { createHash } from 'node:crypto';
import { type AzureGuestRequest, type AzureGuestVerdict, GUEST_RUNTIME_DATA_PAYLOAD, TPM_EPHEMERAL_KID, parseAttestationInfo, verifyAzureGuest } from '../../attestation/azure/index.js';
import { loadCertificates } from '../../attestation/snp/certificate.js';
import type { TrustStore } from '../../attestation/snp/trust.js';
import { CONFIG_PAYLOAD } from '../evidence/azure-guest.js';
import type { AzureGuestRunnerAttestation } from '../serve/attestation.js';
import { type AttestationCheckInput, type VerifyCheck, describeRuntime, endpointCheck, parseRuntime, policyCheck, tokenChecks, tokenIssuer } from './check-common.js';

/** Codes about the TPM half of the evidence (quote, certified key, AK), reported under `quote`. */
const TPM_CODES = /^ERR_(TPM_|ENC_KEY_|AZURE_GUEST_AK|AK_CERT|TCG_LOG)/;

/**
 * MAA AzureGuest evidence, checked as the KRS's `POST /attest/AzureGuest` checks it (verifyAzureGuest):
 *  - `evidence`: the SNP report and its chain verify, at VMPL 0;
 *  - `report-data`: REPORT_DATA = SHA-256(HCL runtime claims) ‖ zeros, with the AK in them;
 *  - `quote`: the quote, the certified PCR-bound ephemeral key, the AK certificate, the TCG log;
 *  - `runtime-data`: the runtime data served is the one in ClientPayload, names the ephemeral key, and its
 *    configuration digest is the one in ClientPayload;
 * then the token (issued for this SNP report, wrapping to this ephemeral key, carrying this ClientPayload, and
 * its signature), the release policy over the verified claims, and the endpoint. The protocol has no verifier
 * challenge: the token binds the runtime data because only this vTPM could decrypt it.
 */
export async function checkGuestAttestation(i: AttestationCheckInput, a: AzureGuestRunnerAttestation, trust: TrustStore | undefined, checks: VerifyCheck[]): Promise<void> {
  const request = parseAttestationInfo(a.attestationInfo);
  const chain = request.isolation.vcekCertChain;
  const verdict = verifyAzureGuest(request, { certificates: chain.length > 0 ? loadCertificates(chain) : [], ...(trust ? { trust } : {}), ...(i.now ? { now: i.now } : {}) });
  const runtimeBytes = Buffer.from(a.runtimeData, 'base64url');
  const runtime = parseRuntime(runtimeBytes);
  checks.push(...evidenceChecks(verdict), runtimeCheck(request, verdict, runtimeBytes, runtime));
  const reportData = verdict.snp.report?.reportData.toString('hex') ?? null;
  const ephemeralN = verdict.claims?.['x-ms-runtime'].keys[0].n ?? null;
  const binding = {
    holds: (t: Readonly<Record<string, unknown>>) => {
      const tee = (t['x-ms-isolation-tee'] ?? {}) as Record<string, unknown>;
      const rt = (t['x-ms-runtime'] ?? {}) as { keys?: Array<{ n?: unknown }>; 'client-payload'?: Record<string, unknown> };
      return reportData !== null && tee['x-ms-sevsnpvm-reportdata'] === reportData && ephemeralN !== null && rt.keys?.[0]?.n === ephemeralN && rt['client-payload']?.[GUEST_RUNTIME_DATA_PAYLOAD] === request.clientPayload[GUEST_RUNTIME_DATA_PAYLOAD];
    },
    ok: "the token's REPORT_DATA, wrapping key and ClientPayload are the evidence's",
    failed: 'the token was not issued for this evidence (REPORT_DATA, ephemeral key or ClientPayload differ)',
  };
  const tokenClaims = await tokenChecks(i, binding, checks);
  if (i.policy) checks.push(policyCheck(i.policy, verdict.ok && verdict.claims ? { ...(tokenClaims ?? {}), ...verdict.claims, 'x-ms-isolation-tee': { ...verdict.claims['x-ms-isolation-tee'], ...complianceOf(tokenClaims) } } : null, tokenIssuer(a.token)));
  checks.push(endpointCheck(i.url, i.peerSpkiSha256, runtime));
}

function evidenceChecks(v: AzureGuestVerdict): VerifyCheck[] {
  const tpm = v.errors.filter((e) => TPM_CODES.test(e.code));
  const bind = v.errors.filter((e) => e.code.startsWith('ERR_HCL_CLAIMS') || e.code === 'ERR_HCL_RUNTIME_CLAIMS' || e.code === 'ERR_HCL_AK_MISSING' || e.code === 'ERR_HCL_KEY_INVALID');
  const rest = v.errors.filter((e) => !tpm.includes(e) && !bind.includes(e));
  const snp = v.snp;
  return [
    rest.length === 0 && snp.ok
      ? { name: 'evidence', ok: true, detail: `SNP report at VMPL 0 signed by a ${snp.product} ${snp.signer}${snp.simulated ? ' under the SIMULATED root' : ''}; measurement ${snp.claims?.['x-ms-sevsnpvm-launchmeasurement'].slice(0, 16)}...` }
      : { name: 'evidence', ok: false, detail: rest.map((e) => e.code).join(', ') || 'the SNP report does not verify' },
    bind.length === 0 && v.runtimeClaims !== null
      ? { name: 'report-data', ok: true, detail: 'REPORT_DATA = SHA-256(HCL runtime claims) ‖ zeros, with the AK (HCLAkPub)' }
      : { name: 'report-data', ok: false, detail: bind.map((e) => `${e.code}: ${e.message}`).join('; ') || 'the HCL runtime claims carry no usable AK' },
    tpm.length === 0 && v.runtimeClaims !== null
      ? { name: 'quote', ok: true, detail: `TPM quote and certified PCR-bound ephemeral key signed by the AK; the AK certificate certifies the AK (its issuer is not judged here); ${v.claims?.['x-zt4ai-tcg-log-verified'] ? 'the TCG log replays to the quoted PCRs' : 'no TCG log was sent'}` }
      : { name: 'quote', ok: false, detail: tpm.map((e) => `${e.code}: ${e.message}`).join('; ') || 'not checked: no AK' },
  ];
}

/** The runtime data served is the ClientPayload's, names the ephemeral key, and carries the same configuration digest. */
function runtimeCheck(request: AzureGuestRequest, v: AzureGuestVerdict, bytes: Buffer, runtime: Record<string, unknown> | null): VerifyCheck {
  const sent = request.clientPayload[GUEST_RUNTIME_DATA_PAYLOAD];
  if (sent === undefined || !Buffer.from(sent, 'base64').equals(bytes)) return { name: 'runtime-data', ok: false, detail: `the runtime data served is not ClientPayload.${GUEST_RUNTIME_DATA_PAYLOAD} of the evidence` };
  if (runtime === null) return { name: 'runtime-data', ok: false, detail: 'the runtime data is not a JSON object with the TEE key' };
  const key = (runtime.keys as Array<{ kid?: unknown; n?: unknown }>)[0];
  const ephemeral = v.claims?.['x-ms-runtime'].keys[0] ?? null;
  if (!ephemeral || key?.kid !== TPM_EPHEMERAL_KID || key.n !== ephemeral.n) return { name: 'runtime-data', ok: false, detail: "the runtime data does not name the vTPM's certified ephemeral key" };
  const config = request.clientPayload[CONFIG_PAYLOAD];
  if (config !== undefined && Buffer.from(config, 'base64').toString('utf8') !== runtime['x-zt4ai-config']) return { name: 'runtime-data', ok: false, detail: `ClientPayload.${CONFIG_PAYLOAD} is not the runtime data's configuration digest` };
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const hardware = v.claims?.['x-zt4ai-runtime-data-bound'] ? ', and the SNP-signed user-data is its SHA-256' : ' (the HCL user-data does not bind it: only the answer being encrypted to this vTPM does)';
  return { name: 'runtime-data', ok: true, detail: `ClientPayload carries this runtime data (SHA-256 ${hash}...)${hardware}; ${describeRuntime(runtime)}` };
}

/** The compliance status is the service's judgement: taken from the verified token when it has one. */
function complianceOf(token: Record<string, unknown> | null): Record<string, unknown> {
  const tee = (token?.['x-ms-isolation-tee'] ?? null) as Record<string, unknown> | null;
  return typeof tee?.['x-ms-compliance-status'] === 'string' ? { 'x-ms-compliance-status': tee['x-ms-compliance-status'] } : {};
}
