import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatedBlobStorage, type SimulatedImds, startSimulatedBlobStorage, startSimulatedImds } from '../../../simulator/azure/index.js';

/** The simulated Blob Storage account: Entra ID bearer tokens of the simulated IMDS only, readers only, Azure's errors. */
const READER = { clientId: 'reader-client', objectId: '11111111-1111-4111-8111-111111111111' };
const STRANGER = { clientId: 'stranger-client', objectId: '22222222-2222-4222-8222-222222222222' };
let imds: SimulatedImds;
let blob: SimulatedBlobStorage;
const root = mkdtempSync(join(tmpdir(), 'zt4ai-blob-sim-'));

beforeAll(async () => {
  mkdirSync(join(root, 'models', 'm1', 'weights'), { recursive: true });
  writeFileSync(join(root, 'models', 'm1', 'a.sealed'), 'A'.repeat(10));
  writeFileSync(join(root, 'models', 'm1', 'weights', 'b & c.sealed'), 'B'.repeat(20));
  writeFileSync(join(root, 'models', 'm1', 'model.sig'), '{}');
  writeFileSync(join(root, 'models', 'other.txt'), 'x');
  imds = await startSimulatedImds({ identities: [READER, STRANGER] });
  blob = await startSimulatedBlobStorage({ root, issuer: imds.issuer, jwksUri: imds.jwksUri, readers: [READER.objectId], pageSize: 2 });
});
afterAll(async () => {
  await blob?.close();
  await imds?.close();
  rmSync(root, { recursive: true, force: true });
});

async function tokenFor(clientId: string, resource = 'https://storage.azure.com'): Promise<string> {
  const res = await request(`${imds.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(resource)}&client_id=${clientId}`, { headers: { Metadata: 'true' } });
  return ((await res.body.json()) as { access_token: string }).access_token;
}

async function get(path: string, token: string | null, version = '2023-11-03') {
  const res = await request(`${blob.accountUrl}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'x-ms-version': version } });
  return { status: res.statusCode, code: res.headers['x-ms-error-code'] ?? null, headers: res.headers, body: await res.body.text() };
}

describe('simulated Blob Storage', () => {
  it('lists a prefix in pages (NextMarker) and serves blobs to a reader', async () => {
    const token = await tokenFor(READER.clientId);
    const first = await get('/models?restype=container&comp=list&prefix=m1/', token);
    expect(first.status).toBe(200);
    expect([...first.body.matchAll(/<Name>([^<]*)<\/Name>/g)].map((m) => m[1])).toEqual(['m1/a.sealed', 'm1/model.sig']);
    const marker = /<NextMarker>([^<]+)<\/NextMarker>/.exec(first.body)![1]!;
    const second = await get(`/models?restype=container&comp=list&prefix=m1/&marker=${encodeURIComponent(marker)}`, token);
    expect([...second.body.matchAll(/<Name>([^<]*)<\/Name>/g)].map((m) => m[1])).toEqual(['m1/weights/b &amp; c.sealed']);
    expect(second.body).toMatch(/<Content-Length>20<\/Content-Length>/);
    expect(second.body).toMatch(/<NextMarker \/>/);
    const file = await get(`/models/m1/weights/${encodeURIComponent('b & c.sealed')}`, token);
    expect(file).toMatchObject({ status: 200, body: 'B'.repeat(20) });
    expect(file.headers['x-ms-blob-type']).toBe('BlockBlob');
  });

  it('refuses as Azure does: no token 401 with a challenge, a token for another audience 401, a non-reader 403, Bearer on an old version 400', async () => {
    const none = await get('/models?restype=container&comp=list', null);
    expect(none).toMatchObject({ status: 401, code: 'NoAuthenticationInformation' });
    expect(none.headers['www-authenticate']).toBe(`Bearer authorization_uri=${imds.issuer}oauth2/authorize resource_id=https://storage.azure.com`);
    expect(await get('/models/m1/a.sealed', await tokenFor(READER.clientId, 'https://vault.azure.net'))).toMatchObject({ status: 401, code: 'InvalidAuthenticationInfo' });
    expect(await get('/models/m1/a.sealed', `${(await tokenFor(READER.clientId)).slice(0, -4)}AAAA`)).toMatchObject({ status: 401, code: 'InvalidAuthenticationInfo' });
    const stranger = await get('/models/m1/a.sealed', await tokenFor(STRANGER.clientId));
    expect(stranger).toMatchObject({ status: 403, code: 'AuthorizationPermissionMismatch' });
    expect(stranger.body).toMatch(/^<\?xml[^>]*><Error><Code>AuthorizationPermissionMismatch<\/Code><Message>This request is not authorized/);
    expect(await get('/models/m1/a.sealed', await tokenFor(READER.clientId), '2017-04-17')).toMatchObject({ status: 400 });
  });

  it('answers 404 ContainerNotFound and BlobNotFound, and 400 for a path escaping the container', async () => {
    const token = await tokenFor(READER.clientId);
    expect(await get('/nothere?restype=container&comp=list', token)).toMatchObject({ status: 404, code: 'ContainerNotFound' });
    expect(await get('/models/m1/missing.sealed', token)).toMatchObject({ status: 404, code: 'BlobNotFound' });
    expect((await get('/models/m1/..%2F..%2F..%2Fetc%2Fpasswd', token)).status).toBe(400);
    expect((await get('/models/m1/%2E%2E/%2E%2E/etc/passwd', token)).status).toBe(404);
    expect(blob.requests.every((r) => !JSON.stringify(r).includes(token))).toBe(true);
  });
});
