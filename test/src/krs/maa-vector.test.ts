import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCertificates } from '../../../attestation/snp/certificate.js';
import { HAS_SHARED, sharedFile } from '../../helpers/shared.js';
import { ATTEST_URL, removeTempDirs, testApp } from './fixtures.js';

afterAll(removeTempDirs);

/**
 * The real MAA request from an Azure SEV-SNP VM (shared/vectors/azure/maa-sevsnpvm, from jepio/maa-rs) and the
 * token MAA issued for the same report: a relying party must read the same x-ms-* claims from ours.
 */
describe.skipIf(!HAS_SHARED)('the real MAA SevSnpVm request', () => {
  const dir = 'vectors/azure/maa-sevsnpvm';

  it('is accepted (AMD roots only) and its token carries the same x-ms-sevsnpvm-* claims as MAA\'s', async () => {
    const request = JSON.parse(sharedFile(dir, 'attest_request.json').toString('utf8')) as Record<string, unknown>;
    const vcek = loadCertificates(sharedFile(dir, 'vcek_cert_chain.pem'))[0]!;
    // Inside the VCEK's validity, so the test does not depend on today's date.
    const at = new Date(vcek.notBefore.getTime() + 86_400_000);
    const krs = await testApp({ diagnose: false, clock: () => at });
    const res = await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: request });
    expect(res.statusCode, res.body).toBe(200);
    const { token } = res.json<{ token: string }>();
    const jwks = (await krs.app.inject({ method: 'GET', url: '/certs' })).json();
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: krs.issuer, currentDate: at });

    const maa = decodeJwt(sharedFile(dir, 'attest_response_token.jwt').toString('utf8').trim());
    const names = Object.keys(maa).filter((k) => k.startsWith('x-ms-sevsnpvm-'));
    expect(names.length).toBe(17);
    for (const name of names) expect(payload[name], name).toEqual(maa[name]);
    for (const name of ['x-ms-attestation-type', 'x-ms-runtime', 'x-ms-ver']) expect(payload[name], name).toEqual(maa[name]);
    expect(payload).toMatchObject({ 'x-zt4ai-simulated': false, 'x-zt4ai-fresh': false, 'x-zt4ai-product': 'Milan', 'x-zt4ai-report-version': 1 });
    expect(payload['x-zt4ai-warnings']).toContain('WARN_REPORT_V1');
    // We never claim Azure's compliance or policy facts.
    expect(payload['x-ms-compliance-status']).toBeUndefined();
    expect(payload['x-ms-policy-hash']).toBeUndefined();
    await krs.close();
  });

  it('is rejected once its runtime data is changed by one byte', async () => {
    const request = JSON.parse(sharedFile(dir, 'attest_request.json').toString('utf8')) as { runtimeData: { data: string } };
    // Still the same JSON object, but not the bytes the report committed to.
    request.runtimeData.data = Buffer.concat([Buffer.from(' '), Buffer.from(request.runtimeData.data, 'base64url')]).toString('base64url');
    const vcek = loadCertificates(sharedFile(dir, 'vcek_cert_chain.pem'))[0]!;
    const krs = await testApp({ diagnose: false, clock: () => new Date(vcek.notBefore.getTime() + 86_400_000) });
    const res = await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: request });
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('ERR_RUNTIME_DATA_NOT_BOUND');
    await krs.close();
  });
});
