import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReleaseResponse } from '../../../keys/release/index.js';
import { DEFAULT_MEASUREMENT } from '../../../simulator/index.js';
import { signAttestationToken } from '../../../src/krs/token.js';
import { ISSUER, removeTempDirs } from './fixtures.js';
import { KV, type KeyApp, type TeeKey, exportableKey, keyApp, policyData, teeEvidence, teeKey } from './key-fixtures.js';

type Denial = { error: { code: string; message: string; innererror?: { code: string }; zt4aiCode: string; details?: Array<Record<string, unknown>> } };

const MEASUREMENT = Buffer.from(DEFAULT_MEASUREMENT).toString('hex');
/** What a careful model owner writes: this measurement, no debugging, firmware SVN at least 25. */
const STRICT = policyData(ISSUER, [
  { claim: 'x-ms-sevsnpvm-launchmeasurement', equals: MEASUREMENT },
  { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false },
  { claim: 'x-ms-sevsnpvm-snpfw-svn', greaterOrEquals: 25 },
]);

let krs: KeyApp;
let tee: TeeKey;
let ca: string;
beforeAll(async () => {
  krs = await keyApp();
  tee = teeKey();
  ca = (await krs.app.inject({ url: '/release-signer/ca' })).body;
  const created = await Promise.all([
    krs.call('POST', `/keys/model/create${KV}`, exportableKey(STRICT)),
    krs.call('POST', `/keys/fresh-only/create${KV}`, exportableKey(policyData(ISSUER, [{ claim: 'x-zt4ai-fresh', equals: true }]))),
    krs.call('POST', `/keys/rsa-model/create${KV}`, { kty: 'RSA-HSM', key_size: 2048, attributes: { exportable: true }, release_policy: { data: STRICT } }),
    krs.call('POST', `/keys/plain/create${KV}`, { kty: 'oct-HSM' }),
  ]);
  for (const r of created) expect(r.statusCode, r.body).toBe(200);
});
afterAll(async () => {
  await krs?.close();
  removeTempDirs();
});

const release = (name: string, target: string, extra: Record<string, unknown> = {}) => krs.call('POST', `/keys/${name}/release${KV}`, { target, ...extra });

async function expectDenied(name: string, target: string, zt4aiCode: string): Promise<Denial['error']> {
  const res = await release(name, target);
  expect(res.statusCode, res.body).toBe(403);
  const error = res.json<Denial>().error;
  expect(error).toMatchObject({ code: 'Forbidden', zt4aiCode });
  return error;
}

function expectPolicyDenial(error: Denial['error'], clause: Record<string, unknown>): void {
  expect(error.message).toBe('Target environment attestation statement cannot be verified.');
  expect(error.innererror).toEqual({ code: 'AccessDenied' });
  expect(error.details).toEqual([expect.objectContaining({ code: 'ERR_POLICY_CLAUSE_FAILED', ...clause })]);
}

describe('release: allowed', () => {
  it('answers {value: JWS} that the runner opens with its TEE key, for every enc, oct and RSA keys', async () => {
    const token = await krs.attest(await teeEvidence({ tee }));
    for (const enc of [undefined, 'CKM_RSA_AES_KEY_WRAP', 'RSA_AES_KEY_WRAP_256', 'RSA_AES_KEY_WRAP_384']) {
      const res = await release('model', token, { nonce: 'n-1', ...(enc ? { enc } : {}) });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const opened = await openReleaseResponse(res.json<{ value: string }>(), { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca], expectedKid: `${ISSUER}/keys/model`, expectedNonce: 'n-1' });
      expect(opened.enc).toBe(enc ?? 'CKM_RSA_AES_KEY_WRAP');
      expect(opened.material).toHaveLength(32);
    }
    const rsa = await release('rsa-model', token);
    const opened = await openReleaseResponse(rsa.json<{ value: string }>(), { teePrivateKey: tee.privateKey, teePublicJwk: tee.publicJwk, trustedRoots: [ca] });
    expect(createPrivateKey({ key: opened.material, format: 'der', type: 'pkcs8' }).asymmetricKeyType).toBe('rsa');
  });

  it('releases a named version, and refuses an unknown enc as a bad request', async () => {
    const version = (await krs.call('GET', `/keys/model${KV}`)).json<{ key: { kid: string } }>().key.kid.split('/').at(-1)!;
    const token = await krs.attest(await teeEvidence({ tee }));
    expect((await krs.call('POST', `/keys/model/${version}/release${KV}`, { target: token })).statusCode).toBe(200);
    const bad = await release('model', token, { enc: 'A256KW' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<Denial>().error.zt4aiCode).toBe('ERR_WRAP_ENC');
  });
});

describe('release: denials, each with its code and the failing clause', () => {
  it('wrong measurement', async () => {
    const token = await krs.attest(await teeEvidence({ tee, measurement: Buffer.alloc(48, 7) }));
    expectPolicyDenial(await expectDenied('model', token, 'ERR_RELEASE_POLICY_DENIED'), {
      claim: 'x-ms-sevsnpvm-launchmeasurement',
      operator: 'equals',
      expected: MEASUREMENT,
      actual: '07'.repeat(48),
    });
  });

  it('debuggable guest', async () => {
    const token = await krs.attest(await teeEvidence({ tee, guestPolicy: { debug: true } }));
    expectPolicyDenial(await expectDenied('model', token, 'ERR_RELEASE_POLICY_DENIED'), { claim: 'x-ms-sevsnpvm-is-debuggable', operator: 'equals', expected: false, actual: true });
  });

  it('TCB below the policy', async () => {
    const token = await krs.attest(await teeEvidence({ tee, tcb: { snp: 20 } }));
    expectPolicyDenial(await expectDenied('model', token, 'ERR_RELEASE_POLICY_DENIED'), { claim: 'x-ms-sevsnpvm-snpfw-svn', operator: 'greaterOrEquals', expected: 25, actual: 20 });
  });

  it('a policy requiring a nonce (x-zt4ai-fresh) and a token without one; with a challenge nonce it is released', async () => {
    const stale = await krs.attest(await teeEvidence({ tee }));
    expectPolicyDenial(await expectDenied('fresh-only', stale, 'ERR_RELEASE_POLICY_DENIED'), { claim: 'x-zt4ai-fresh', operator: 'equals', expected: true, actual: false });
    const { nonce } = (await krs.app.inject({ method: 'POST', url: '/attest/challenge' })).json<{ nonce: string }>();
    const fresh = await krs.attest(await teeEvidence({ tee, nonce }));
    expect((await release('fresh-only', fresh)).statusCode).toBe(200);
  });

  it('a token from an untrusted issuer', async () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const claims = decodeJwt(await krs.attest(await teeEvidence({ tee })));
    const token = await new SignJWT({ ...claims, iss: 'https://attacker.example' }).setProtectedHeader({ alg: 'RS256', kid: 'x' }).sign(key);
    const error = await expectDenied('model', token, 'ERR_TARGET_UNTRUSTED_ISSUER');
    expect(error.message).toBe('Target environment attestation statement cannot be verified.');
    expect(error.details?.[0]).toMatchObject({ code: 'ERR_TARGET_UNTRUSTED_ISSUER', message: expect.stringContaining('https://attacker.example') });
  });

  it('an expired token', async () => {
    const claims = decodeJwt(await krs.attest(await teeEvidence({ tee })));
    const token = await signAttestationToken({ claims, key: await krs.signingKeys.active(), issuer: ISSUER, lifetimeSeconds: 300, now: new Date(Date.now() - 3_600_000) });
    await expectDenied('model', token, 'ERR_TARGET_EXPIRED');
  });

  it('a forged signature: edited claims, or signed by another key under the same kid', async () => {
    const good = await krs.attest(await teeEvidence({ tee, guestPolicy: { debug: true } }));
    const [h, p, s] = good.split('.');
    const edited = Buffer.from(JSON.stringify({ ...decodeJwt(good), 'x-ms-sevsnpvm-is-debuggable': false })).toString('base64url');
    await expectDenied('model', `${h}.${edited}.${s}`, 'ERR_TARGET_SIGNATURE');
    const active = await krs.signingKeys.active();
    const imposter = { ...active, privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
    const forged = await signAttestationToken({ claims: { ...decodeJwt(good), 'x-ms-sevsnpvm-is-debuggable': false }, key: imposter, issuer: ISSUER, lifetimeSeconds: 300, now: new Date() });
    await expectDenied('model', forged, 'ERR_TARGET_SIGNATURE');
    await expectDenied('model', `${h}.${p}`, 'ERR_TARGET_MALFORMED');
  });

  it('a disabled key', async () => {
    await krs.call('PATCH', `/keys/model${KV}`, { attributes: { enabled: false } });
    const error = await expectDenied('model', await krs.attest(await teeEvidence({ tee })), 'ERR_KEYSTORE_DISABLED');
    expect(error.innererror).toEqual({ code: 'KeyDisabled' });
    await krs.call('PATCH', `/keys/model${KV}`, { attributes: { enabled: true } });
  });

  it('a non-exportable key', async () => {
    const error = await expectDenied('plain', await krs.attest(await teeEvidence({ tee })), 'ERR_KEYSTORE_NOT_EXPORTABLE');
    expect(error.innererror).toEqual({ code: 'KeyNotExportable' });
  });

  it('a token whose runtime data names no TEE key', async () => {
    const claims = decodeJwt(await krs.attest(await teeEvidence({ tee })));
    const token = await signAttestationToken({ claims: { ...claims, 'x-ms-runtime': { keys: [] } }, key: await krs.signingKeys.active(), issuer: ISSUER, lifetimeSeconds: 300, now: new Date() });
    await expectDenied('model', token, 'ERR_TARGET_NO_TEE_KEY');
    const pub = createPublicKey(tee.privateKey).export({ format: 'jwk' });
    const noKid = await signAttestationToken({ claims: { ...claims, 'x-ms-runtime': { keys: [{ kty: 'RSA', n: pub.n, e: pub.e }] } }, key: await krs.signingKeys.active(), issuer: ISSUER, lifetimeSeconds: 300, now: new Date() });
    const res = await release('model', noKid);
    expect(res.json<Denial>().error.zt4aiCode).toBe('ERR_WRAP_TEE_KEY');
  });
});

describe('release decisions are audited and counted', () => {
  it('allowed and denied entries carry the reasons and a token reference, never the token', async () => {
    const token = await krs.attest(await teeEvidence({ tee, guestPolicy: { debug: true } }));
    await release('model', token);
    const entries = (await krs.call('GET', '/audit?key=model&kind=release-allowed,release-denied&limit=1000')).json<{ value: Array<{ kind: string; actor: string; details: Record<string, unknown> }> }>().value;
    const last = entries.at(-1)!;
    expect(last).toMatchObject({ kind: 'release-denied', actor: 'admin-token', details: { code: 'ERR_RELEASE_POLICY_DENIED', issuer: ISSUER, enc: 'CKM_RSA_AES_KEY_WRAP', teeKid: tee.publicJwk.kid } });
    expect(last.details.token).toEqual({ jti: decodeJwt(token).jti, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(last.details.reasons).toEqual([expect.objectContaining({ claim: 'x-ms-sevsnpvm-is-debuggable', operator: 'equals', expected: false, actual: true })]);
    expect(entries.some((e) => e.kind === 'release-allowed' && e.details.authority === ISSUER)).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(token.split('.')[2]);
    const metrics = (await krs.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/krs_release_decisions_total\{outcome="allowed",reason="ok"\} [1-9]/);
    expect(metrics).toMatch(/krs_release_decisions_total\{outcome="denied",reason="ERR_RELEASE_POLICY_DENIED"\} [1-9]/);
  });

  it('the release route is rate limited per client with the attest limit (429 Throttled)', async () => {
    const limited = await keyApp({ config: { rateLimit: { max: 2, timeWindowSeconds: 60 } } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) codes.push((await limited.call('POST', `/keys/none/release${KV}`, { target: 'x' })).statusCode);
      expect(codes).toEqual([403, 403, 429]);
      expect((await limited.call('POST', `/keys/none/release${KV}`, { target: 'x' })).json<Denial>().error).toMatchObject({ code: 'Throttled', zt4aiCode: 'ERR_RATE_LIMITED' });
    } finally {
      await limited.close();
    }
  });

  it('with denialDetails: false the 403 names the code only; the audit log still has every clause', async () => {
    const quiet = await keyApp({ config: { denialDetails: false } });
    try {
      await quiet.call('POST', `/keys/m/create${KV}`, exportableKey(STRICT));
      const token = await quiet.attest(await teeEvidence({ tee, guestPolicy: { debug: true } }));
      const res = await quiet.call('POST', `/keys/m/release${KV}`, { target: token });
      expect(res.statusCode).toBe(403);
      expect(res.json<Denial>().error).toEqual({ code: 'Forbidden', message: 'Target environment attestation statement cannot be verified.', innererror: { code: 'AccessDenied' }, zt4aiCode: 'ERR_RELEASE_POLICY_DENIED' });
      const audit = (await quiet.call('GET', '/audit?key=m&kind=release-denied')).json<{ value: Array<{ details: { reasons: unknown[] } }> }>().value;
      expect(audit[0]!.details.reasons).toHaveLength(1);
    } finally {
      await quiet.close();
    }
  });
});
