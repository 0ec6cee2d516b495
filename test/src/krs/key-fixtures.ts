import { type KeyObject, createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { toPem } from '../../../attestation/snp/certificate.js';
import type { GuestPolicy } from '../../../attestation/snp/fields.js';
import type { Tcb } from '../../../attestation/snp/tcb.js';
import { encodeReleasePolicy } from '../../../keys/keystore/index.js';
import { SimulatedFirmware } from '../../../simulator/index.js';
import type { KrsConfigInput } from '../../../src/krs/config.js';
import { ATTEST_URL, type TestApp, b64u, sha256, simRoots, tempDir, testApp } from './fixtures.js';

/** A TEE's RSA wrapping key: the private half stays in the test, the public JWK goes into the runtime data. */
export interface TeeKey {
  readonly privateKey: KeyObject;
  readonly publicJwk: { kty: 'RSA'; kid: string; n: string; e: string; key_ops: string[] };
}

export function teeKey(bits = 2048): TeeKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(`${jwk.n}.${jwk.e}`).digest('base64url');
  return { privateKey, publicJwk: { kty: 'RSA', kid, n: jwk.n!, e: jwk.e!, key_ops: ['encrypt'] } };
}

export interface TeeEvidenceOptions {
  readonly tee: TeeKey;
  /** A challenge nonce for the runtime data (the token then says x-zt4ai-fresh: true). */
  readonly nonce?: string;
  readonly guestPolicy?: Partial<GuestPolicy>;
  readonly measurement?: Buffer;
  readonly tcb?: Partial<Tcb>;
}

/** An MAA request whose runtime data `{keys: [TEE JWK], nonce?}` is bound to a simulated SNP report. */
export async function teeEvidence(o: TeeEvidenceOptions): Promise<Record<string, unknown>> {
  const root = (await simRoots()).Genoa;
  const guest = { ...(o.guestPolicy ? { policy: { smt: true, reserved17: true, ...o.guestPolicy } } : {}), ...(o.measurement ? { measurement: o.measurement } : {}) };
  const fw = new SimulatedFirmware({ root, ...(o.tcb ? { tcb: o.tcb } : {}), guest });
  const runtime = Buffer.from(JSON.stringify({ keys: [o.tee.publicJwk], ...(o.nonce ? { nonce: o.nonce } : {}) }));
  const x = fw.getExtendedReport(Buffer.concat([sha256(runtime), Buffer.alloc(32)]));
  const inner = JSON.stringify({ SnpReport: b64u(x.report), VcekCertChain: b64u(toPem(x.endorsement) + toPem(x.intermediate) + toPem(x.ark)) });
  return { report: b64u(inner), runtimeData: { data: b64u(runtime), dataType: 'JSON' } };
}

/** A KRS test app with the key API open to `token` (static administrator token), trusting the simulator. */
export interface KeyApp extends TestApp {
  readonly token: string;
  /** inject with the administrator token (or `as`), JSON in and out. */
  call(method: NonNullable<InjectOptions['method']>, url: string, body?: unknown, as?: string | null): Promise<LightMyRequestResponse>;
  /** Attests evidence and returns the token (fails the test otherwise). */
  attest(evidence: Record<string, unknown>): Promise<string>;
}

export async function keyApp(options: { config?: KrsConfigInput; dataDir?: string; clock?: () => Date } = {}): Promise<KeyApp> {
  const dataDir = options.dataDir ?? tempDir('keys');
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(dataDir, '..', `${randomBytes(4).toString('hex')}-admin.token`);
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const t = await testApp({ dataDir, config: { trustSimulator: true, adminAuth: { tokenFile }, ...options.config }, ...(options.clock ? { clock: options.clock } : {}) });
  return { ...t, token, call: (method, url, body, as) => callApi(t.app, token, method, url, body, as), attest: (evidence) => attestWith(t.app, evidence) };
}

export function callApi(app: FastifyInstance, token: string, method: NonNullable<InjectOptions['method']>, url: string, body?: unknown, as?: string | null): Promise<LightMyRequestResponse> {
  const bearer = as === undefined ? token : as;
  return app.inject({
    method,
    url,
    headers: { ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

async function attestWith(app: FastifyInstance, evidence: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: ATTEST_URL, payload: evidence });
  if (res.statusCode !== 200) throw new Error(`attest answered ${res.statusCode}: ${res.body}`);
  return res.json<{ token: string }>().token;
}

/** A release policy document with one authority and its allOf clauses, base64url as Key Vault stores it. */
export function policyData(authority: string, allOf: readonly Record<string, unknown>[]): string {
  return encodeReleasePolicy({ version: '1.0.0', anyOf: [{ authority, allOf }] });
}

/** A Key Vault create body for an exportable oct-HSM key with the given release policy. */
export function exportableKey(data: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kty: 'oct-HSM', key_size: 256, attributes: { exportable: true }, release_policy: { data }, ...extra };
}

/** A `TokenCredential` (the @azure/identity interface) that hands out a fixed token, or one it mints per scope. */
export class TestCredential implements TokenCredential {
  readonly scopes: string[] = [];
  readonly #mint: (scope: string) => string | Promise<string>;

  constructor(mint: string | ((scope: string) => string | Promise<string>)) {
    this.#mint = typeof mint === 'string' ? () => mint : mint;
  }

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
    this.scopes.push(scope);
    return { token: await this.#mint(scope), expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

export const KV = '?api-version=7.5';
