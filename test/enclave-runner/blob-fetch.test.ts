import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRunnerConfig } from '../../enclave-runner/config/load.js';
import type { AzureBlobSource } from '../../enclave-runner/config/types.js';
import { RunnerError } from '../../enclave-runner/errors.js';
import { fetchSealedModel, parseListing } from '../../enclave-runner/startup/blob-fetch.js';
import { type SimulatedBlobStorage, type SimulatedImds, startSimulatedBlobStorage, startSimulatedImds } from '../../simulator/azure/index.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { defaultEnvironment, evaluate, loadBicepFiles, parseBicep, property, variables } from '../deploy/bicep-parser.js';
import { runnerFailure } from './runner-failure.js';

/**
 * The runner's download of a sealed model from Blob Storage, with a real ManagedIdentityCredential against
 * the simulated IMDS (reached through AZURE_POD_IDENTITY_AUTHORITY_HOST, set once for this file: msal-node
 * fixes the IMDS endpoint per process) and the simulated Blob Storage account.
 */
const READER = { clientId: 'runner-identity', objectId: 'aaaaaaaa-0000-4000-8000-000000000001' };
const OUTSIDER = { clientId: 'other-identity', objectId: 'aaaaaaaa-0000-4000-8000-000000000002' };
const saved = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
const dir = mkdtempSync(join(tmpdir(), 'zt4ai-blob-fetch-'));
const root = join(dir, 'account');
const downloads = join(dir, 'downloads');
let imds: SimulatedImds;
let blob: SimulatedBlobStorage;

const write = (path: string, bytes: string | Buffer) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), bytes);
};

beforeAll(async () => {
  write('models/model/ngram.json.sealed', Buffer.alloc(70_000, 1));
  write('models/model/weights/a b&c.bin.sealed', Buffer.alloc(3, 2));
  write('models/model/model.sig', '{"signature":1}');
  write('models/model/README.md', 'not part of the model');
  write('models/modelx/other.sealed', 'another prefix that only starts the same');
  write('models/unsafe/a\\..\\b.sealed', 'x');
  write('models/empty/notes.txt', 'x');
  mkdirSync(downloads);
  imds = await startSimulatedImds({ identities: [READER, OUTSIDER] });
  blob = await startSimulatedBlobStorage({ root, issuer: imds.issuer, jwksUri: imds.jwksUri, readers: [READER.objectId], pageSize: 2 });
  process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = imds.url;
});
afterAll(async () => {
  if (saved === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
  else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = saved;
  await blob?.close();
  await imds?.close();
  rmSync(dir, { recursive: true, force: true });
});

const source = (prefix: string, extra: Partial<AzureBlobSource> = {}): AzureBlobSource => ({ accountUrl: blob.accountUrl, container: 'models', prefix, managedIdentityClientId: READER.clientId, maxBytes: 1024 ** 3, ...extra });
const fetchAs = (clientId: string, s: AzureBlobSource) => fetchSealedModel({ source: s, parentDir: downloads, credential: new ManagedIdentityCredential({ clientId }) });

describe('fetching a sealed model from Blob Storage', () => {
  it('downloads the containers and model.sig under the prefix (paged listing) into a fresh 0700 directory, files 0600', async () => {
    const before = blob.requests.length;
    const fetched = await fetchAs(READER.clientId, source('model/'));
    expect(fetched).toMatchObject({ files: 3, bytes: 70_000 + 3 + 15, skipped: 1 });
    expect(statSync(fetched.dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(fetched.dir, { recursive: true }).map(String).sort()).toEqual(['model.sig', 'ngram.json.sealed', 'weights', 'weights/a b&c.bin.sealed']);
    expect(readFileSync(join(fetched.dir, 'ngram.json.sealed')).equals(Buffer.alloc(70_000, 1))).toBe(true);
    expect(readFileSync(join(fetched.dir, 'weights', 'a b&c.bin.sealed')).equals(Buffer.alloc(3, 2))).toBe(true);
    expect(statSync(join(fetched.dir, 'model.sig')).mode & 0o777).toBe(0o600);
    // Two listing pages (pageSize 2), three GETs; README.md and the look-alike prefix "modelx/" were not fetched.
    const served = blob.requests.slice(before);
    expect(served.filter((r) => r.query.includes('comp=list')).length).toBe(2);
    expect(served.filter((r) => !r.query).map((r) => decodeURIComponent(r.path)).sort()).toEqual(['/zt4aisim/models/model/model.sig', '/zt4aisim/models/model/ngram.json.sealed', '/zt4aisim/models/model/weights/a b&c.bin.sealed']);
    await fetched.remove();
    expect(existsSync(fetched.dir)).toBe(false);
  });

  it('refuses with typed errors: no role (403), unknown identity, missing container, no sealed blob, too large, an unsafe name', async () => {
    const forbidden = await runnerFailure(fetchAs(OUTSIDER.clientId, source('model/')));
    expect(forbidden.code).toBe('ERR_RUNNER_BLOB_AUTH');
    expect(forbidden.message).toMatch(/HTTP 403 AuthorizationPermissionMismatch .*Storage Blob Data Reader/);
    expect((await runnerFailure(fetchAs('not-attached', source('model/')))).code).toBe('ERR_RUNNER_BLOB_AUTH');
    expect((await runnerFailure(fetchAs(READER.clientId, { ...source('model/'), container: 'nothere' }))).code).toBe('ERR_RUNNER_BLOB_NOT_FOUND');
    const empty = await runnerFailure(fetchAs(READER.clientId, source('empty/')));
    expect(empty.code).toBe('ERR_RUNNER_BLOB_NOT_FOUND');
    expect(empty.message).toMatch(/no \*\.sealed blob under models\/empty\//);
    const large = await runnerFailure(fetchAs(READER.clientId, source('model/', { maxBytes: 70_000 })));
    expect(large.code).toBe('ERR_RUNNER_BLOB_TOO_LARGE');
    expect((await runnerFailure(fetchAs(READER.clientId, source('unsafe/')))).code).toBe('ERR_RUNNER_BLOB_INVALID');
    // Nothing was left behind, and no message carries a token.
    expect(readdirSync(downloads)).toEqual([]);
    for (const e of [forbidden, empty, large]) expect(e.message).not.toMatch(/eyJ/);
  });

  it('refuses a blob longer than its listing, and an unreachable account', async () => {
    const liar = createServer((req, res) => {
      if (req.url?.includes('comp=list')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        return res.end('<?xml version="1.0"?><EnumerationResults><Blobs><Blob><Name>m/x.sealed</Name><Properties><Content-Length>5</Content-Length></Properties></Blob></Blobs><NextMarker /></EnumerationResults>');
      }
      res.writeHead(200);
      res.end('0123456789');
    });
    await new Promise<void>((ok) => liar.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(liar.address() as AddressInfo).port}/acct`;
    try {
      const e = await runnerFailure(fetchAs(READER.clientId, { ...source('m/'), accountUrl: url }));
      expect(e.code).toBe('ERR_RUNNER_BLOB_INVALID');
      expect(e.message).toMatch(/longer than the 5 bytes listed/);
    } finally {
      await new Promise<void>((ok) => liar.close(() => ok()));
    }
    expect((await runnerFailure(fetchAs(READER.clientId, { ...source('m/'), accountUrl: url }))).code).toBe('ERR_RUNNER_BLOB_UNAVAILABLE');
    expect(readdirSync(downloads)).toEqual([]);
  });

  it('refuses a listing that repeats its continuation marker, rather than listing forever', async () => {
    let pages = 0;
    const looping = createServer((_req, res) => {
      pages++;
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><EnumerationResults><Blobs /><NextMarker>again</NextMarker></EnumerationResults>');
    });
    await new Promise<void>((ok) => looping.listen(0, '127.0.0.1', ok));
    try {
      const e = await runnerFailure(fetchAs(READER.clientId, { ...source('m/'), accountUrl: `http://127.0.0.1:${(looping.address() as AddressInfo).port}/acct` }));
      expect([e.code, pages]).toEqual(['ERR_RUNNER_BLOB_INVALID', 2]);
      expect(e.message).toMatch(/repeats a continuation marker/);
    } finally {
      await new Promise<void>((ok) => looping.close(() => ok()));
    }
    expect(readdirSync(downloads)).toEqual([]);
  });

  it('parses listings strictly: entities, Encoded names, and refuses documents that are not listings', () => {
    const page = parseListing('<EnumerationResults><Blobs><Blob><Name>a&amp;b&#x2F;c</Name><Properties><Content-Length>7</Content-Length></Properties></Blob><Blob><Name Encoded="true">d%20e</Name><Properties><Content-Length>0</Content-Length></Properties></Blob></Blobs><NextMarker>n&lt;1</NextMarker></EnumerationResults>');
    expect(page).toEqual({ blobs: [{ name: 'a&b/c', size: 7 }, { name: 'd e', size: 0 }], nextMarker: 'n<1' });
    expect(() => parseListing('<html>login</html>')).toThrow(RunnerError);
    expect(() => parseListing('<EnumerationResults><Blobs><Blob><Name>x</Name></Blob></Blobs></EnumerationResults>')).toThrow(/no Name or Content-Length/);
  });
});

describe('sealedModel of kind azure-blob', () => {
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const config = (sealedModel: Record<string, unknown>) =>
    resolveRunnerConfig({ attestation: { url: 'http://127.0.0.1:8443' }, keySource: { url: 'http://127.0.0.1:8443/keys/k', tokenFile: 't' }, sealedModel, trustedSigners: [{ publicKeyPem: signer }] }, dir);

  it('reads what the Bicep templates write: host-style account, container, prefix, identity; downloads under the temp directory', async () => {
    const c = await config({ kind: 'azure-blob', url: 'https://zt4aistabc.blob.core.windows.net/models/model/', managedIdentityClientId: 'cid', plaintextDir: '/run/zt4ai-runner/model' });
    expect(c.sealedModel).toEqual({
      path: tmpdir(),
      unsealTo: 'tmpfs',
      plaintextDir: '/run/zt4ai-runner/model',
      blob: { accountUrl: 'https://zt4aistabc.blob.core.windows.net', container: 'models', prefix: 'model/', managedIdentityClientId: 'cid', maxBytes: 256 * 1024 ** 3 },
    });
    const local = await config({ kind: 'azure-blob', url: 'http://127.0.0.1:10000/devstoreaccount1/models/a%20b/c', path: 'dl', maxBytes: 1000 });
    expect(local.sealedModel).toMatchObject({ path: join(dir, 'dl'), blob: { accountUrl: 'http://127.0.0.1:10000/devstoreaccount1', container: 'models', prefix: 'a b/c/', managedIdentityClientId: null, maxBytes: 1000 } });
    expect((await config({ kind: 'azure-blob', url: 'https://a.blob.core.windows.net/models' })).sealedModel.blob?.prefix).toBe('');
  });

  it.each(['bicep/main.bicep', 'bicep/krs.bicep'])('%s: the sealedModel it writes resolves to the container and prefix it deploys', async (path) => {
    const file = loadBicepFiles(REPO_ROOT, 'bicep').find((f) => f.path === path)!;
    const node = property(variables(file).get('runnerConfig'), 'sealedModel')!;
    // Module outputs are known only on Azure: stand in the storage module's blob endpoint and the identity's client id.
    const text = node.text.replace('storage.outputs.blobEndpoint', 'blobEndpoint').replace(/\b(runnerIdentity|identity)\.outputs\.clientId\b/, 'clientId');
    const env = defaultEnvironment(file);
    env.set('blobEndpoint', 'https://zt4aist0123.blob.core.windows.net/');
    env.set('clientId', '00000000-0000-0000-0000-0000000000c1');
    const sealedModel = evaluate(variables(parseBicep('inline.bicep', `var x = ${text}\n`)).get('x')!, env) as Record<string, unknown>;
    const c = await config(sealedModel);
    expect(c.sealedModel.blob).toEqual({ accountUrl: 'https://zt4aist0123.blob.core.windows.net', container: env.get('modelContainerName'), prefix: `${env.get('modelBlobPrefix')}/`, managedIdentityClientId: '00000000-0000-0000-0000-0000000000c1', maxBytes: 256 * 1024 ** 3 });
    expect(c.sealedModel).toMatchObject({ unsealTo: 'tmpfs', plaintextDir: '/run/zt4ai-runner/model' });
  });

  it.each([
    [{ kind: 'azure-blob', url: 'https://a.blob.core.windows.net/' }, /names no valid container/],
    [{ kind: 'azure-blob', url: 'https://a.blob.core.windows.net/Models/x/' }, /names no valid container/],
    [{ kind: 'azure-blob', url: 'http://a.blob.core.windows.net/models/' }, /plain http only to loopback/],
    [{ kind: 'azure-blob', url: 'https://a.blob.core.windows.net/models/?sv=2024&sig=secret' }, /must not carry credentials, a query/],
    // An encoded "/" must not hide ".." segments (the download URL would resolve them into another container).
    [{ kind: 'azure-blob', url: 'https://a.blob.core.windows.net/models/x%2F..%2F..%2Fother/' }, /must not contain "\.", "\.\."/],
    [{ kind: 'azure-blob' }, /sealedModel.url is required/],
    [{ kind: 'azure-blob', url: 'https://a.blob.core.windows.net/models/', maxBytes: 0 }, /sealedModel.maxBytes/],
    [{ path: 'sealed', url: 'https://a.blob.core.windows.net/models/' }, /apply to kind "azure-blob"/],
  ])('refuses %j', async (sealedModel, message) => {
    await expect(config(sealedModel)).rejects.toMatchObject({ code: 'ERR_RUNNER_CONFIG', message: expect.stringMatching(message) });
  });
});
