import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { type SigningKey, generateSigningKey } from '../../../src/krs/signing-key-file.js';

/** An OpenID issuer on 127.0.0.1 (port 0) that publishes its keys as MAA does: `x5c` only, no n/e. */
export interface FakeIssuer {
  readonly url: string;
  /** Requests served, by path. */
  readonly hits: Map<string, number>;
  /** Signs claims as an MAA-style token: RS256, header {alg, jku, kid, typ}. */
  sign(claims: Record<string, unknown>, options?: { lifetimeSeconds?: number; key?: SigningKey }): Promise<string>;
  close(): Promise<void>;
}

export async function fakeIssuer(options: { claimIssuer?: string } = {}): Promise<FakeIssuer> {
  const key = await generateSigningKey(2048, new Date());
  const hits = new Map<string, number>();
  let url = '';
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    res.setHeader('content-type', 'application/json');
    if (path === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer: options.claimIssuer ?? url, jwks_uri: `${url}/certs` }));
    if (path === '/certs') return res.end(JSON.stringify({ keys: [{ kid: key.kid, kty: 'RSA', x5c: [key.certificateDer.toString('base64')] }] }));
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    sign: (claims, o = {}) => {
      const k = o.key ?? key;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', jku: `${url}/certs`, kid: k.kid, typ: 'JWT' })
        .setIssuer(url)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + (o.lifetimeSeconds ?? 300))
        .sign(k.privateKey);
    },
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
