import { describe, expect, it } from 'vitest';
import { loadCertificates } from '../../attestation/snp/certificate.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';
import { HAS_SHARED, sharedFile } from '../helpers/shared.js';

/**
 * A real Azure VERSION 1 report and the MAA token issued for the same report (shared/vectors/azure/maa-sevsnpvm):
 * our claims must carry the same names and values that MAA put in its token, so one release policy serves both.
 */
describe.skipIf(!HAS_SHARED)('claims match Microsoft Azure Attestation for the same report', () => {
  const dir = 'vectors/azure/maa-sevsnpvm';
  it('the v1 report verifies (with a warning) and every x-ms-sevsnpvm-* claim equals the token', () => {
    const certificates = loadCertificates(sharedFile(dir, 'vcek_cert_chain.pem'));
    const now = new Date(certificates[0]!.notBefore.getTime() + 86_400_000);
    const verdict = verifySnpReport(sharedFile(dir, 'snp_report.bin'), { certificates, now });
    expect(verdict.errors.map((e) => e.code)).toEqual([]);
    expect(verdict.warnings.map((w) => w.code)).toContain('WARN_REPORT_V1');
    const jwt = sharedFile(dir, 'attest_response_token.jwt').toString('utf8').trim();
    const token = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const names = Object.keys(token).filter((k) => k.startsWith('x-ms-sevsnpvm-'));
    expect(names.length).toBe(17);
    const claims = verdict.claims as unknown as Record<string, unknown>;
    for (const name of names) expect(claims[name], name).toEqual(token[name]);
    expect(claims['x-ms-attestation-type']).toBe(token['x-ms-attestation-type']);
  });
});
