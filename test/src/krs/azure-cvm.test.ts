import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteBindingNonce } from '../../../attestation/azure/index.js';
import { toPem } from '../../../attestation/snp/certificate.js';
import type { AuditEntry } from '../../../keys/audit/index.js';
import { openReleaseResponse } from '../../../keys/release/index.js';
import { SimulatedVtpm } from '../../../simulator/azure/index.js';
import { SimulatedFirmware } from '../../../simulator/index.js';
import { resolveKrsConfig } from '../../../src/krs/config.js';
import { type ErrorBody, ISSUER, type TestApp, b64u, removeTempDirs, simRoots, testApp } from './fixtures.js';
import { KV, type KeyApp, type TeeKey, exportableKey, keyApp, policyData, teeKey } from './key-fixtures.js';

const CVM_URL = '/attest/AzureCvm?api-version=2022-08-01';
const PCRS = [0, 1, 2, 3, 4, 5, 6, 7];

let vtpm: SimulatedVtpm;
let certificates: string;
let tee: TeeKey;
beforeAll(async () => {
  const firmware = new SimulatedFirmware({ root: (await simRoots()).Genoa });
  vtpm = await SimulatedVtpm.create({ firmware });
  const x = firmware.getExtendedReport(Buffer.alloc(64));
  certificates = b64u(toPem(x.endorsement) + toPem(x.intermediate) + toPem(x.ark));
  tee = teeKey();
});
afterAll(removeTempDirs);

async function challenge(app: TestApp['app']): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/attest/challenge' });
  return res.json<{ nonce: string }>().nonce;
}

interface CvmOptions {
  /** Quote over this challenge instead of the one sent. */
  readonly quoteNonce?: string;
  /** Quote over these runtime-data bytes instead of the ones sent. */
  readonly quotedRuntime?: Buffer;
  readonly hcl?: (hcl: Buffer) => Buffer;
  readonly pcrs?: (pcrs: Record<string, string>) => Record<string, string>;
}

const runtimeOf = (t: TeeKey) => ({ keys: [t.publicJwk], configDigest: 'a'.repeat(64) });

/** The runner's side: runtime data, the TPM quote over quoteBindingNonce(challenge, runtime data), the HCL report. */
function cvmRequest(nonce: string, o: CvmOptions = {}): Record<string, unknown> {
  const runtime = Buffer.from(JSON.stringify(runtimeOf(tee)));
  const quote = vtpm.quote(quoteBindingNonce(o.quoteNonce ?? nonce, o.quotedRuntime ?? runtime), PCRS);
  const hcl = vtpm.hclReport();
  const pcrs = quote.pcrsJson();
  return {
    hclReport: b64u(o.hcl ? o.hcl(hcl) : hcl),
    certificates,
    quote: { message: b64u(quote.message), signature: b64u(quote.signature) },
    pcrs: o.pcrs ? o.pcrs(pcrs) : pcrs,
    nonce,
    runtimeData: { data: b64u(runtime), dataType: 'JSON' },
  };
}

async function expectRefused(app: TestApp['app'], body: Record<string, unknown>, status: number, code: string): Promise<ErrorBody['error']> {
  const res = await app.inject({ method: 'POST', url: CVM_URL, payload: body });
  expect(res.statusCode, res.body).toBe(status);
  const error = res.json<ErrorBody>().error;
  expect(error.code).toBe(code);
  return error;
}

describe('POST /attest/AzureCvm with simulated vTPM evidence (trustSimulator on)', () => {
  let krs: KeyApp;
  beforeAll(async () => {
    krs = await keyApp();
  });
  afterAll(async () => {
    await krs.close();
  });

  it("issues a token that verifies with the published JWKS, in MAA's confidential-VM shape", async () => {
    const res = await krs.app.inject({ method: 'POST', url: CVM_URL, payload: cvmRequest(await challenge(krs.app)) });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const jwks = (await krs.app.inject({ url: '/certs' })).json();
    const { payload, protectedHeader } = await jwtVerify(res.json<{ token: string }>().token, createLocalJWKSet(jwks), { issuer: ISSUER, algorithms: ['RS256'] });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', jku: `${ISSUER}/certs` });
    expect(payload).toMatchObject({
      'x-ms-attestation-type': 'azurevm',
      'x-ms-runtime': runtimeOf(tee),
      'x-ms-azurevm-vmid': vtpm.vmConfiguration.vmUniqueId,
      'x-ms-azurevm-attested-pcrs': PCRS,
      'x-zt4ai-fresh': true,
      'x-zt4ai-simulated': true,
      'x-zt4ai-tpm-quote-verified': true,
      'x-zt4ai-evidence': 'azure-hcl',
    });
    const isolation = payload['x-ms-isolation-tee'] as Record<string, unknown>;
    expect(isolation).toMatchObject({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-compliance-status': 'zt4ai-verified-cvm', 'x-ms-sevsnpvm-vmpl': 0, 'x-ms-sevsnpvm-is-debuggable': false });
    expect(isolation['x-ms-sevsnpvm-launchmeasurement']).toMatch(/^[0-9a-f]{96}$/);
    expect((isolation['x-ms-runtime'] as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toContain('HCLAkPub');
    expect(payload.jti).toMatch(/^[0-9a-f]{64}$/);
    expect(payload.exp).toBe(payload.iat! + 300);
    expect(payload.nbf).toBe(payload.iat);
  });

  it('refuses a quote over another challenge (ERR_QUOTE_NONCE)', async () => {
    const other = await challenge(krs.app);
    const error = await expectRefused(krs.app, cvmRequest(await challenge(krs.app), { quoteNonce: other }), 403, 'ERR_QUOTE_NONCE');
    expect(error.details?.map((d) => d.code)).toEqual(['ERR_TPM_QUOTE_NONCE']);
  });

  it('refuses runtime data the quote does not bind (ERR_QUOTE_NONCE)', async () => {
    const quoted = Buffer.from(JSON.stringify(runtimeOf(teeKey())));
    await expectRefused(krs.app, cvmRequest(await challenge(krs.app), { quotedRuntime: quoted }), 403, 'ERR_QUOTE_NONCE');
  });

  it('refuses a replayed challenge (ERR_NONCE_REPLAYED) and a forged one (ERR_NONCE_INVALID)', async () => {
    const body = cvmRequest(await challenge(krs.app));
    expect((await krs.app.inject({ method: 'POST', url: CVM_URL, payload: body })).statusCode).toBe(200);
    await expectRefused(krs.app, body, 403, 'ERR_NONCE_REPLAYED');
    await expectRefused(krs.app, cvmRequest('not-a-krs-challenge'), 403, 'ERR_NONCE_INVALID');
  });

  it('refuses runtime claims changed after REPORT_DATA bound them (ERR_HCL_EVIDENCE_REJECTED)', async () => {
    const tamper = (hcl: Buffer): Buffer => {
      const at = hcl.indexOf('"vmUniqueId":"') + '"vmUniqueId":"'.length;
      const out = Buffer.from(hcl);
      out[at] = out[at] === 0x41 ? 0x42 : 0x41;
      return out;
    };
    const error = await expectRefused(krs.app, cvmRequest(await challenge(krs.app), { hcl: tamper }), 403, 'ERR_HCL_EVIDENCE_REJECTED');
    expect(error.details?.map((d) => d.code)).toContain('ERR_HCL_CLAIMS_NOT_BOUND');
  });

  it('refuses PCR values other than the quoted ones (ERR_HCL_EVIDENCE_REJECTED, ERR_TPM_PCR_DIGEST)', async () => {
    const error = await expectRefused(krs.app, cvmRequest(await challenge(krs.app), { pcrs: (p) => ({ ...p, '7': 'ff'.repeat(32) }) }), 403, 'ERR_HCL_EVIDENCE_REJECTED');
    expect(error.details?.map((d) => d.code)).toEqual(['ERR_TPM_PCR_DIGEST']);
  });

  it('answers request problems with 400s and their codes', async () => {
    const nonce = await challenge(krs.app);
    await expectRefused(krs.app, { ...cvmRequest(nonce), certificates: b64u('not a certificate') }, 400, 'ERR_INVALID_CVM_CERTIFICATES');
    await expectRefused(krs.app, { ...cvmRequest(nonce), runtimeData: { data: b64u('[1]'), dataType: 'JSON' } }, 400, 'ERR_INVALID_RUNTIME_DATA');
    await expectRefused(krs.app, { ...cvmRequest(nonce), quote: { message: 'a' } }, 400, 'ERR_INVALID_REQUEST');
    const res = await krs.app.inject({ method: 'POST', url: '/attest/AzureCvm?api-version=1999-01-01', payload: cvmRequest(nonce) });
    expect(res.json<ErrorBody>().error.code).toBe('ERR_API_VERSION_UNSUPPORTED');
  });

  it('records issued and refused decisions in the audit log, never the token', async () => {
    const res = await krs.app.inject({ method: 'POST', url: CVM_URL, payload: cvmRequest(await challenge(krs.app)) });
    const token = res.json<{ token: string }>().token;
    const entries = (await krs.call('GET', '/audit?kind=attestation&limit=1000')).json<{ value: AuditEntry[] }>().value;
    const issued = entries.find((e) => e.details.jti === decodeJwt(token).jti);
    expect(issued?.details).toMatchObject({ outcome: 'issued', evidence: 'azure-cvm', simulated: true, fresh: true, measurement: expect.stringMatching(/^[0-9a-f]{96}$/) });
    expect(entries.some((e) => e.details.outcome === 'rejected' && e.details.code === 'ERR_QUOTE_NONCE' && e.details.evidence === 'azure-cvm')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(token.split('.')[1]!);
  });
});

describe('POST /attest/AzureCvm without trusting the simulator', () => {
  it('refuses simulated evidence with ERR_SIMULATED_NOT_TRUSTED', async () => {
    const krs = await testApp();
    try {
      await expectRefused(krs.app, cvmRequest(await challenge(krs.app)), 403, 'ERR_SIMULATED_NOT_TRUSTED');
    } finally {
      await krs.close();
    }
  });
});

describe('release with a Microsoft confidential-VM policy', () => {
  const msPolicy = policyData(ISSUER, [
    { claim: 'x-ms-isolation-tee.x-ms-attestation-type', equals: 'sevsnpvm' },
    { claim: 'x-ms-isolation-tee.x-ms-compliance-status', equals: 'azure-compliant-cvm' },
  ]);

  it('with azureCvm.complianceStatus "azure-compliant-cvm", the unchanged policy releases the key to the runtime key', async () => {
    const krs = await keyApp({ config: { azureCvm: { complianceStatus: 'azure-compliant-cvm' } } });
    try {
      expect((await krs.call('POST', `/keys/cvm-model/create${KV}`, exportableKey(msPolicy))).statusCode).toBe(200);
      const attested = await krs.app.inject({ method: 'POST', url: CVM_URL, payload: cvmRequest(await challenge(krs.app)) });
      expect(attested.statusCode, attested.body).toBe(200);
      const target = attested.json<{ token: string }>().token;
      const res = await krs.call('POST', `/keys/cvm-model/release${KV}`, { target, nonce: 'n-cvm' });
      expect(res.statusCode, res.body).toBe(200);
      const ca = (await krs.app.inject({ url: '/release-signer/ca' })).body;
      const opened = await openReleaseResponse(res.json<{ value: string }>(), { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca], expectedKid: `${ISSUER}/keys/cvm-model`, expectedNonce: 'n-cvm' });
      expect(opened.material).toHaveLength(32);
    } finally {
      await krs.close();
    }
  });

  it('by default (zt4ai-verified-cvm) the same policy denies the release', async () => {
    const krs = await keyApp();
    try {
      expect((await krs.call('POST', `/keys/cvm-model/create${KV}`, exportableKey(msPolicy))).statusCode).toBe(200);
      const target = (await krs.app.inject({ method: 'POST', url: CVM_URL, payload: cvmRequest(await challenge(krs.app)) })).json<{ token: string }>().token;
      const res = await krs.call('POST', `/keys/cvm-model/release${KV}`, { target });
      expect(res.statusCode).toBe(403);
      expect(res.json<{ error: { zt4aiCode: string } }>().error.zt4aiCode).toBe('ERR_RELEASE_POLICY_DENIED');
    } finally {
      await krs.close();
    }
  });

  it('azureCvm.complianceStatus accepts only the two documented values', () => {
    expect(resolveKrsConfig({}).azureCvm.complianceStatus).toBe('zt4ai-verified-cvm');
    expect(() => resolveKrsConfig({ azureCvm: { complianceStatus: 'anything' } })).toThrow(/azureCvm.complianceStatus must be one of/);
    expect(() => resolveKrsConfig({ azureCvm: { other: 1 } })).toThrow(/unknown setting "azureCvm.other"/);
  });
});
