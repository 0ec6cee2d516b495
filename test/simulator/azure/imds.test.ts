import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCertificates } from '../../../attestation/snp/certificate.js';
import { SimulatedFirmware, createSimulatedRoots } from '../../../simulator/index.js';
import { type SimulatedImds, startSimulatedImds, thimFor } from '../../../simulator/azure/index.js';

/**
 * The simulated instance-metadata service against the real `@azure/identity` 4.13.1. Its IMDS endpoint is
 * chosen once per process (msal-node keeps the managed-identity source and token cache in statics), from
 * `AZURE_POD_IDENTITY_AUTHORITY_HOST`: so this file starts one IMDS and sets the variable before any token.
 */
const RUNNER = { clientId: '6f1e0b1a-9d3c-4a5e-8f00-000000000001', objectId: '0b7c2d4e-0000-4000-8000-00000000a001', roles: ['keys.release'] };
const OTHER = { clientId: '6f1e0b1a-9d3c-4a5e-8f00-000000000002' };
const MSI_VARIABLES = ['AZURE_POD_IDENTITY_AUTHORITY_HOST', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'IMDS_ENDPOINT', 'MSI_ENDPOINT', 'MSI_SECRET', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET'];
const saved = new Map(MSI_VARIABLES.map((k) => [k, process.env[k]]));
let imds: SimulatedImds;
let firmware: SimulatedFirmware;

beforeAll(async () => {
  firmware = new SimulatedFirmware({ root: (await createSimulatedRoots({ seed: 'imds tests' })).Genoa, tcb: { bootloader: 9, tee: 0, snp: 23, microcode: 72 } });
  imds = await startSimulatedImds({ identities: [RUNNER, OTHER], thim: thimFor(firmware.getExtendedReport(Buffer.alloc(64))) });
  for (const k of MSI_VARIABLES) delete process.env[k];
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.url;
});
afterAll(async () => {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await imds?.close();
});

const get = async (path: string, headers: Record<string, string> = {}) => {
  const res = await request(`${imds.url}${path}`, { headers });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
};

describe('simulated IMDS: managed-identity tokens', () => {
  it('a real ManagedIdentityCredential gets a token for its client id, verifiable through the issuer\'s OpenID metadata', async () => {
    const before = imds.requests.length;
    const token = await new ManagedIdentityCredential({ clientId: RUNNER.clientId }).getToken('https://vault.azure.net/.default');
    // Exactly one request, no probe: Metadata: true, the api-version, the resource and client_id (msal-node adds a trailing "/").
    expect(imds.requests.slice(before)).toEqual([{ method: 'GET', path: '/metadata/identity/oauth2/token/', status: 200, metadataHeader: true, resource: 'https://vault.azure.net', clientId: RUNNER.clientId }]);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3_600_000);
    const meta = await get(`/${imds.tenantId}/.well-known/openid-configuration`);
    expect(meta.body.issuer).toBe(imds.issuer);
    const { payload, protectedHeader } = await jwtVerify(token.token, createRemoteJWKSet(new URL(meta.body.jwks_uri as string)), { issuer: imds.issuer, audience: 'https://vault.azure.net' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ oid: RUNNER.objectId, sub: RUNNER.objectId, appid: RUNNER.clientId, tid: imds.tenantId, ver: '1.0', roles: ['keys.release'] });
    expect(String(payload.xms_mirid)).toMatch(/\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\//);
  });

  it('DefaultAzureCredential (what the runner uses without a client id) reaches it too, for the identity in AZURE_CLIENT_ID', async () => {
    process.env.AZURE_CLIENT_ID = OTHER.clientId;
    try {
      const token = await new DefaultAzureCredential().getToken('https://storage.azure.com/.default');
      expect(decodeJwt(token.token)).toMatchObject({ appid: OTHER.clientId, aud: 'https://storage.azure.com' });
      expect(decodeJwt(token.token).roles).toBeUndefined();
    } finally {
      delete process.env.AZURE_CLIENT_ID;
    }
  });

  it('refuses like IMDS: no Metadata header, no resource, an unknown identity, an ambiguous one (400)', async () => {
    const q = '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net';
    expect(await get(q)).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'Required metadata header not specified' } });
    expect((await get('/metadata/identity/oauth2/token?api-version=2018-02-01', { Metadata: 'true' })).status).toBe(400);
    expect((await get(`${q}&client_id=nobody`, { Metadata: 'true' })).body.error_description).toBe('Identity not found');
    expect((await get(q, { Metadata: 'true' })).body.error_description).toMatch(/Multiple user assigned identities/);
    await expect(new ManagedIdentityCredential({ clientId: 'not-attached' }).getToken('https://vault.azure.net/.default')).rejects.toThrow(/Identity not found/);
    const ok = await get(`${q}&client_id=${RUNNER.clientId}`, { Metadata: 'true' });
    expect(Object.keys(ok.body).sort()).toEqual(['access_token', 'client_id', 'expires_in', 'expires_on', 'ext_expires_in', 'not_before', 'resource', 'token_type']);
    expect(ok.body).toMatchObject({ resource: 'https://vault.azure.net', token_type: 'Bearer', expires_in: '86399' });
  });
});

describe('simulated IMDS: THIM', () => {
  it("serves the VCEK chain as THIM JSON that the verifier's certificate loader reads, with tcbm the reported TCB", async () => {
    expect((await get('/metadata/THIM/amd/certification')).status).toBe(400);
    const thim = await get('/metadata/THIM/amd/certification', { Metadata: 'true' });
    expect(thim.status).toBe(200);
    expect(Object.keys(thim.body).sort()).toEqual(['cacheControl', 'certificateChain', 'tcbm', 'vcekCert']);
    const certs = loadCertificates(Buffer.from(JSON.stringify(thim.body)));
    const x = firmware.getExtendedReport(Buffer.alloc(64));
    expect(certs.map((c) => Buffer.from(c.der).equals(x.endorsement) || Buffer.from(c.der).equals(x.intermediate) || Buffer.from(c.der).equals(x.ark))).toEqual([true, true, true]);
    // tcbm = ucode<<56 | snp<<48 | tee<<8 | bootloader (snp-evidence.md §6), here for Genoa's layout.
    const tcbm = BigInt(`0x${thim.body.tcbm as string}`);
    expect({ microcode: Number(tcbm >> 56n), snp: Number((tcbm >> 48n) & 0xffn), tee: Number((tcbm >> 8n) & 0xffn), bootloader: Number(tcbm & 0xffn) }).toEqual({ microcode: 72, snp: 23, tee: 0, bootloader: 9 });
  });
});
