import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedRootsPem } from '../../simulator/index.js';
import { resolveKrsConfig } from '../../src/krs/config.js';
import { type KrsServer, startKrsServer } from '../../src/krs/server.js';
import { removeTempDirs, simRoots, simulatedRequest, tempDir } from '../src/krs/fixtures.js';

/**
 * The attestation half of the KRS over real sockets (127.0.0.1, port 0): a client that knows only the issuer
 * URL gets a challenge, sends simulated evidence bound to it, and verifies the token with nothing but what
 * the service publishes (OIDC discovery, then the JWKS).
 */
let krs: KrsServer;
beforeAll(async () => {
  const config = resolveKrsConfig({ listen: '127.0.0.1:0', dataDir: tempDir('e2e'), trustSimulator: true, signingKeyBits: 2048, logLevel: 'silent' });
  krs = await startKrsServer(config, { simulatedRootsPem: [simulatedRootsPem(await simRoots())] });
});
afterAll(async () => {
  await krs?.close();
  removeTempDirs();
});

async function json<T>(url: string, init: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await request(url, {
    method: init.method ?? 'GET',
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
  });
  return { status: res.statusCode, body: (await res.body.json()) as T };
}

describe('attestation over HTTP', () => {
  it('challenge -> evidence bound to the nonce -> token verified with the published OIDC metadata and JWKS', async () => {
    const issuer = krs.url;
    const challenge = await json<{ nonce: string; expiresAt: string }>(`${issuer}/attest/challenge`, { method: 'POST' });
    expect(challenge.status).toBe(200);
    const runtime = { nonce: challenge.body.nonce, keys: [{ kty: 'RSA', kid: 'release-key', e: 'AQAB', n: 'xyz' }] };
    const attested = await json<{ token: string }>(`${issuer}/attest/SevSnpVm?api-version=2022-08-01`, { method: 'POST', body: await simulatedRequest({ runtime }) });
    expect(attested.status, JSON.stringify(attested.body)).toBe(200);

    const oidc = await json<{ issuer: string; jwks_uri: string; id_token_signing_alg_values_supported: string[] }>(`${issuer}/.well-known/openid-configuration`);
    expect(oidc.body).toMatchObject({ issuer, jwks_uri: `${issuer}/certs`, id_token_signing_alg_values_supported: ['RS256'] });
    const jwks = await json<{ keys: Array<{ kid: string }> }>(oidc.body.jwks_uri);
    const { payload, protectedHeader } = await jwtVerify(attested.body.token, createLocalJWKSet(jwks.body as Parameters<typeof createLocalJWKSet>[0]), {
      issuer: oidc.body.issuer,
      algorithms: oidc.body.id_token_signing_alg_values_supported,
    });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT', jku: oidc.body.jwks_uri, kid: jwks.body.keys[0]!.kid });
    expect(payload).toMatchObject({ 'x-zt4ai-fresh': true, 'x-zt4ai-simulated': true, 'x-ms-runtime': runtime, 'x-ms-attestation-type': 'sevsnpvm' });
  });

  it('a replayed request is refused over the wire with the CloudError body', async () => {
    const { body: c } = await json<{ nonce: string }>(`${krs.url}/attest/challenge`, { method: 'POST' });
    const evidence = await simulatedRequest({ runtime: { nonce: c.nonce } });
    const url = `${krs.url}/attest/SevSnpVm?api-version=2025-06-01`;
    expect((await json(url, { method: 'POST', body: evidence })).status).toBe(200);
    const replay = await json<{ error: { code: string } }>(url, { method: 'POST', body: evidence });
    expect(replay.status).toBe(403);
    expect(replay.body.error.code).toBe('ERR_NONCE_REPLAYED');
  });
});

describe('TLS', () => {
  it('serves HTTPS with the configured certificate', async () => {
    const dir = tempDir('tls');
    const { certPem, keyPem } = await selfSignedTlsCertificate();
    writeFileSync(join(dir, 'cert.pem'), certPem);
    writeFileSync(join(dir, 'key.pem'), keyPem, { mode: 0o600 });
    const config = resolveKrsConfig({
      listen: '127.0.0.1:0',
      dataDir: join(dir, 'data'),
      tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') },
      signingKeyBits: 2048,
      logLevel: 'silent',
    });
    const server = await startKrsServer(config);
    const agent = new Agent({ connect: { ca: certPem } });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await request(`${server.url}/healthz`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      expect(await res.body.json()).toEqual({ status: 'ok' });
    } finally {
      await agent.close();
      await server.close();
    }
  });
});

/** A throwaway self-signed certificate for 127.0.0.1 (SAN IP), for the TLS test only. */
async function selfSignedTlsCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=127.0.0.1',
      notBefore: new Date(Date.now() - 3_600_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: alg,
      keys,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]), new x509.BasicConstraintsExtension(false)],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { certPem: cert.toString('pem'), keyPem };
}
