import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttestationError } from '../../../attestation/errors.js';
import type { EndorsementFetcher } from '../../../attestation/snp/endorsements.js';
import { ATTEST_URL, type ErrorBody, type TestApp, b64u, removeTempDirs, sha256, simRoots, simulatedRequest, testApp } from './fixtures.js';

let trusting: TestApp;
let untrusting: TestApp;
let now = Date.now();
beforeAll(async () => {
  trusting = await testApp({ config: { trustSimulator: true }, clock: () => new Date(now) });
  untrusting = await testApp();
});
afterAll(async () => {
  await trusting.close();
  await untrusting.close();
  removeTempDirs();
});

async function attest(krs: TestApp, payload: unknown, init: { url?: string; headers?: Record<string, string> } = {}) {
  const res = await krs.app.inject({
    method: 'POST',
    url: init.url ?? ATTEST_URL,
    headers: init.headers ?? { 'content-type': 'application/json' },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: res.statusCode, body: res.json<ErrorBody>() };
}

function codesOf(body: ErrorBody): string[] {
  return (body.error.details ?? []).map((d) => d.code);
}

/** Changes MEASUREMENT (0x90) after signing. */
function flipMeasurementBit(report: Buffer): void {
  report[0x90] = report[0x90]! ^ 1;
}

const other = Buffer.from(JSON.stringify({ keys: ['other'] }));

describe('each rejection has its own code and status, and lists every failed check', () => {
  const cases: Array<[string, () => Promise<unknown>, number, string, string[]?]> = [
    ['runtime data not bound to REPORT_DATA', () => simulatedRequest({ reportData: Buffer.concat([sha256(other), Buffer.alloc(32)]) }), 403, 'ERR_RUNTIME_DATA_NOT_BOUND'],
    ['REPORT_DATA[32..64] not zero', () => simulatedRequest({ reportData: Buffer.concat([sha256(Buffer.from('{"keys":[]}')), Buffer.alloc(32, 1)]) }), 403, 'ERR_RUNTIME_DATA_NOT_BOUND'],
    ['initTimeData not matching HOST_DATA', () => simulatedRequest({ initTime: { policy: 'a' }, hostData: randomBytes(32) }), 403, 'ERR_INIT_TIME_DATA_NOT_BOUND'],
    [
      'both bindings broken: both listed',
      () => simulatedRequest({ initTime: { policy: 'a' }, hostData: randomBytes(32), reportData: randomBytes(64) }),
      403,
      'ERR_RUNTIME_DATA_NOT_BOUND',
      ['ERR_RUNTIME_DATA_NOT_BOUND', 'ERR_RUNTIME_DATA_NOT_BOUND', 'ERR_INIT_TIME_DATA_NOT_BOUND'],
    ],
    ['a report signature that does not verify', () => simulatedRequest({ tamperReport: flipMeasurementBit }), 403, 'ERR_EVIDENCE_REJECTED', ['ERR_SNP_SIGNATURE_INVALID']],
    ['no VCEK and no KDS', () => simulatedRequest({ omitVcek: true }), 403, 'ERR_EVIDENCE_REJECTED', ['ERR_CERT_MISSING']],
    ['a "nonce" that is not ours (malformed)', () => simulatedRequest({ runtime: { nonce: 'abc' } }), 403, 'ERR_NONCE_INVALID'],
    ['a "nonce" that is a number', () => simulatedRequest({ runtime: { nonce: 42 } }), 403, 'ERR_NONCE_INVALID'],
    ['report with "+" (standard base64)', async () => ({ ...(await simulatedRequest()), report: 'ab+c' }), 400, 'ERR_INVALID_BASE64URL'],
    ['runtimeData.data with "/"', async () => ({ ...(await simulatedRequest()), runtimeData: { data: 'a/bc', dataType: 'JSON' } }), 400, 'ERR_INVALID_BASE64URL'],
    ['report with bad padding', async () => ({ ...(await simulatedRequest()), report: 'abcde=' }), 400, 'ERR_INVALID_BASE64URL'],
    ['SnpReport inside the report with "*"', async () => ({ ...(await simulatedRequest()), report: b64u(JSON.stringify({ SnpReport: 'AA*A' })) }), 400, 'ERR_INVALID_BASE64URL'],
    ['inner report not JSON', async () => ({ ...(await simulatedRequest()), report: b64u('{"SnpReport": ') }), 400, 'ERR_INVALID_REPORT_JSON'],
    ['inner report without SnpReport', async () => ({ ...(await simulatedRequest()), report: b64u('{"snpreport":"AAAA"}') }), 400, 'ERR_INVALID_REPORT_JSON'],
    ['VcekCertChain not PEM', async () => ({ ...(await simulatedRequest()), report: b64u(JSON.stringify({ SnpReport: 'AAAA', VcekCertChain: b64u('nope') })) }), 400, 'ERR_INVALID_CERT_CHAIN', ['ERR_CERT_PARSE']],
    ['runtime data that is not JSON', async () => ({ ...(await simulatedRequest()), runtimeData: { data: b64u('{nope'), dataType: 'JSON' } }), 400, 'ERR_INVALID_RUNTIME_DATA'],
    ['runtime data that is a JSON array', async () => ({ ...(await simulatedRequest()), runtimeData: { data: b64u('[1]'), dataType: 'JSON' } }), 400, 'ERR_INVALID_RUNTIME_DATA'],
    ['initTimeData that is not JSON', async () => ({ ...(await simulatedRequest()), initTimeData: { data: b64u('\xff'), dataType: 'JSON' } }), 400, 'ERR_INVALID_INIT_TIME_DATA'],
    ['a missing runtimeData', async () => ({ report: (await simulatedRequest()).report }), 400, 'ERR_INVALID_REQUEST'],
    ['an unknown dataType and an unknown field', async () => ({ ...(await simulatedRequest()), runtimeData: { data: 'AA', dataType: 'Text' }, draftPolicyForAttestation: 'x' }), 400, 'ERR_INVALID_REQUEST'],
  ];
  for (const [label, body, status, code, details] of cases) {
    it(`${label}: ${status} ${code}`, async () => {
      const r = await attest(trusting, await body());
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message.length).toBeGreaterThan(10);
      if (details) expect(codesOf(r.body)).toEqual(expect.arrayContaining(details));
      if (details) expect(codesOf(r.body).length).toBeGreaterThanOrEqual(details.length);
    });
  }

  it('schema failures list one detail per failed check', async () => {
    const r = await attest(trusting, { report: 'a+', runtimeData: { data: 1, dataType: 'Text' }, extra: true });
    expect(r.status).toBe(400);
    expect(r.body.error.details?.length).toBeGreaterThanOrEqual(4);
  });
});

describe('HTTP-level rejections', () => {
  it('a wrong or missing api-version: 400 ERR_API_VERSION_UNSUPPORTED (checked before the body)', async () => {
    for (const url of ['/attest/SevSnpVm?api-version=2019-01-01', '/attest/SevSnpVm', '/attest/SevSnpVm?api-version=']) {
      const r = await attest(trusting, {}, { url });
      expect(r.status, url).toBe(400);
      expect(r.body.error.code).toBe('ERR_API_VERSION_UNSUPPORTED');
    }
  });

  it('a wrong content type: 415 ERR_UNSUPPORTED_MEDIA_TYPE', async () => {
    const body = JSON.stringify(await simulatedRequest());
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
      const r = await attest(trusting, body, { headers: { 'content-type': type } });
      expect(r.status, type).toBe(415);
      expect(r.body.error.code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('malformed JSON: 400 ERR_MALFORMED_JSON, and the parser message (which quotes the body) is not echoed', async () => {
    const r = await attest(trusting, '{"report": "secret-evidence-bytes"');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('ERR_MALFORMED_JSON');
    expect(JSON.stringify(r.body)).not.toContain('secret-evidence-bytes');
  });

  it('an oversized body: 413 ERR_BODY_TOO_LARGE', async () => {
    const r = await attest(trusting, { report: 'A'.repeat(70 * 1024), runtimeData: { data: '', dataType: 'JSON' } });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('ERR_BODY_TOO_LARGE');
  });
});

describe('trust decisions', () => {
  it('simulated evidence without trustSimulator: 403 ERR_SIMULATED_NOT_TRUSTED (diagnosed, not trusted)', async () => {
    const r = await attest(untrusting, await simulatedRequest());
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('ERR_SIMULATED_NOT_TRUSTED');
    expect(codesOf(r.body)).toContain('ERR_CERT_ROOT_UNTRUSTED');
  });

  it('without diagnosis anchors the same evidence is a plain 403 ERR_EVIDENCE_REJECTED', async () => {
    const plain = await testApp({ diagnose: false });
    const r = await attest(plain, await simulatedRequest());
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('ERR_EVIDENCE_REJECTED');
    await plain.close();
  });
});

describe('nonces', () => {
  it('an expired challenge: 403 ERR_NONCE_EXPIRED', async () => {
    const { nonce } = trusting.challenges.issue();
    now += 121_000;
    try {
      const r = await attest(trusting, await simulatedRequest({ runtime: { nonce } }));
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('ERR_NONCE_EXPIRED');
    } finally {
      now -= 121_000;
    }
  });

  it('a forged challenge (MAC changed, or issued under another key): 403 ERR_NONCE_INVALID', async () => {
    const bytes = Buffer.from(trusting.challenges.issue().nonce, 'base64url');
    bytes[bytes.length - 1]! ^= 1;
    const forged = bytes.toString('base64url');
    const foreign = untrusting.challenges.issue().nonce;
    for (const nonce of [forged, foreign]) {
      const r = await attest(trusting, await simulatedRequest({ runtime: { nonce } }));
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('ERR_NONCE_INVALID');
    }
  });
});

describe('AMD KDS for evidence without a VCEK', () => {
  it('fetches the VCEK when enabled, and answers 502 ERR_ENDORSEMENT_UNAVAILABLE when KDS fails', async () => {
    const roots = await simRoots();
    const working: EndorsementFetcher = { vcek: async (product, chipId, tcb) => roots[product].vcek(chipId, tcb).der, crl: () => Promise.reject(new Error('unused')) };
    const failing: EndorsementFetcher = { vcek: () => Promise.reject(new AttestationError('ERR_KDS_FETCH', 'KDS answered 500')), crl: () => Promise.reject(new Error('unused')) };
    const ok = await testApp({ config: { trustSimulator: true, kds: { enabled: true } }, endorsements: working });
    const bad = await testApp({ config: { trustSimulator: true, kds: { enabled: true } }, endorsements: failing });
    const body = await simulatedRequest({ omitVcek: true });
    expect((await attest(ok, body)).status).toBe(200);
    const r = await attest(bad, body);
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe('ERR_ENDORSEMENT_UNAVAILABLE');
    expect(codesOf(r.body)).toEqual(['ERR_KDS_FETCH']);
    await ok.close();
    await bad.close();
  });
});
