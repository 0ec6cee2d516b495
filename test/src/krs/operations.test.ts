import { afterAll, describe, expect, it } from 'vitest';
import { KRS_ERROR_CODES } from '../../../src/krs/errors.js';
import { ATTEST_URL, type ErrorBody, removeTempDirs, simulatedRequest, testApp } from './fixtures.js';

afterAll(removeTempDirs);

function counter(metrics: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('GET /healthz, /metrics, /openapi.json', () => {
  it('healthz answers {status:"ok"}', async () => {
    const krs = await testApp();
    const res = await krs.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    await krs.close();
  });

  it('metrics count requests by route, latency per route and attestation decisions by outcome and reason', async () => {
    const krs = await testApp({ config: { trustSimulator: true } });
    const scrape = async () => (await krs.app.inject({ method: 'GET', url: '/metrics' })).body;
    const before = await scrape();
    expect(counter(before, 'krs_attestation_decisions_total', { outcome: 'issued' })).toBe(0);
    await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: await simulatedRequest() });
    await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: await simulatedRequest({ runtime: { nonce: 'forged' } }) });
    await krs.app.inject({ method: 'POST', url: '/attest/SevSnpVm?api-version=1999-01-01', payload: {} });
    await krs.app.inject({ method: 'POST', url: '/attest/challenge' });
    const after = await scrape();
    expect(counter(after, 'krs_attestation_decisions_total', { outcome: 'issued', reason: 'ok' })).toBe(1);
    expect(counter(after, 'krs_attestation_decisions_total', { outcome: 'rejected', reason: 'ERR_NONCE_INVALID' })).toBe(1);
    expect(counter(after, 'krs_attestation_decisions_total', { outcome: 'rejected', reason: 'ERR_API_VERSION_UNSUPPORTED' })).toBe(1);
    expect(counter(after, 'krs_http_requests_total', { route: '/attest/SevSnpVm', method: 'POST', status: '200' })).toBe(1);
    expect(counter(after, 'krs_http_requests_total', { route: '/attest/SevSnpVm', method: 'POST', status: '403' })).toBe(1);
    expect(counter(after, 'krs_http_request_duration_seconds_count', { route: '/attest/SevSnpVm', method: 'POST' })).toBe(3);
    expect(after).toMatch(/^krs_challenges_issued_total 1$/m);
    await krs.close();
  });

  it('each app has its own registry (two apps do not collide or share counts)', async () => {
    const a = await testApp();
    const b = await testApp();
    await a.app.inject({ method: 'GET', url: '/healthz' });
    const bMetrics = (await b.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(counter(bMetrics, 'krs_http_requests_total', { route: '/healthz' })).toBe(0);
    await a.close();
    await b.close();
  });

  it('openapi.json documents the routes from their schemas, with the CloudError codes', async () => {
    const krs = await testApp();
    const spec = (await krs.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }>();
    expect(spec.openapi).toMatch(/^3\./);
    for (const path of ['/attest/SevSnpVm', '/attest/challenge', '/certs', '/.well-known/openid-configuration', '/healthz', '/metrics']) expect(spec.paths).toHaveProperty([path]);
    expect(JSON.stringify(spec.components.schemas)).toContain('ERR_SIMULATED_NOT_TRUSTED');
    await krs.close();
  });
});

describe('rate limiting', () => {
  it('the attest and challenge routes answer 429 ERR_RATE_LIMITED past the limit; health is not limited', async () => {
    const krs = await testApp({ config: { rateLimit: { max: 2, timeWindowSeconds: 60 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await krs.app.inject({ method: 'POST', url: '/attest/challenge' })).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await krs.app.inject({ method: 'POST', url: '/attest/challenge' });
    expect(limited.json<ErrorBody>().error.code).toBe('ERR_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
    for (let i = 0; i < 5; i++) expect((await krs.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await krs.close();
  });
});

describe('logs', () => {
  it('never contain tokens, nonces or evidence; they do carry route, status, latency and error codes', async () => {
    const krs = await testApp({ config: { trustSimulator: true } });
    const challenge = (await krs.app.inject({ method: 'POST', url: '/attest/challenge' })).json<{ nonce: string }>().nonce;
    const body = await simulatedRequest({ runtime: { nonce: challenge, keys: [{ n: 'runtime-secret-ish' }] }, nonce: 'client-echo-nonce' });
    const ok = await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: body });
    const token = ok.json<{ token: string }>().token;
    await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: body }); // replay: rejected
    await krs.app.inject({ method: 'POST', url: ATTEST_URL, headers: { 'content-type': 'application/json' }, payload: '{"report":"evidence-in-bad-json"' });
    const logs = krs.logs.join('');
    const secrets = [token, token.split('.')[1]!, token.split('.')[2]!, challenge, 'client-echo-nonce', 'runtime-secret-ish', 'evidence-in-bad-json', String(body.report).slice(0, 40)];
    for (const s of secrets) expect(logs).not.toContain(s);
    const lines = krs.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    expect(lines.length).toBe(4);
    expect(lines[1]).toMatchObject({ route: '/attest/SevSnpVm', status: 200, outcome: 'issued', simulated: true, fresh: true });
    expect(lines[2]).toMatchObject({ status: 403, outcome: 'rejected', code: 'ERR_NONCE_REPLAYED' });
    expect(lines[3]).toMatchObject({ status: 400, code: 'ERR_MALFORMED_JSON' });
    expect(typeof lines[1]!.latencyMs).toBe('number');
    await krs.close();
  });
});

describe('the error catalogue', () => {
  it('every code has a 4xx/5xx status and a message; codes are stable names', () => {
    for (const [code, entry] of Object.entries(KRS_ERROR_CODES)) {
      expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(entry.message.length).toBeGreaterThan(5);
    }
  });
});
