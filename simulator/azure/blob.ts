import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import { type JWTPayload, createRemoteJWKSet, jwtVerify } from 'jose';
import { serveOnLoopback } from './loopback-server.js';

export interface SimulatedBlobOptions {
  /** Served as the account's containers: `<root>/<container>/<blob name>` (blob names may contain "/"). */
  readonly root: string;
  /** The account name, the first path segment (path-style addressing, as for an IP host). Default "zt4aisim". */
  readonly account?: string;
  /** Whose bearer tokens are accepted: a simulated IMDS's issuer and JWKS. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** Object ids (`oid`) holding Storage Blob Data Reader on every container; anyone else gets 403. */
  readonly readers: readonly string[];
  /** The largest List Blobs page, whatever maxresults asks (the service's is 5000): small pages exercise NextMarker. */
  readonly pageSize?: number;
  readonly clock?: () => Date;
}

/** One request as served: never the token. */
export interface BlobRequest {
  readonly path: string;
  readonly query: string;
  readonly status: number;
  /** The `x-ms-error-code` of a refusal. */
  readonly errorCode: string | null;
}

export interface SimulatedBlobStorage {
  /** The account URL, `http://127.0.0.1:<port>/<account>`: containers are `<accountUrl>/<container>`. */
  readonly accountUrl: string;
  readonly requests: readonly BlobRequest[];
  close(): Promise<void>;
}

/** Audiences Azure Storage accepts in an Entra ID token. */
const AUDIENCES = ['https://storage.azure.com', 'https://storage.azure.com/'];
const MIN_BEARER_VERSION = '2017-11-09';

/**
 * A SIMULATED Azure Blob Storage account on 127.0.0.1 that serves a directory read-only, with the REST
 * surface the runner uses: List Blobs (`GET /<account>/<container>?restype=container&comp=list&prefix=…`,
 * with `marker`/`maxresults` paging) and Get Blob. Like a storage account without shared keys or anonymous
 * access it takes only Entra ID bearer tokens (here: those of a simulated IMDS, audience
 * https://storage.azure.com, `x-ms-version` 2017-11-09 or later), and only from the listed readers.
 * Errors carry Azure's XML body and `x-ms-error-code`.
 */
export async function startSimulatedBlobStorage(options: SimulatedBlobOptions): Promise<SimulatedBlobStorage> {
  const account = options.account ?? 'zt4aisim';
  const jwks = createRemoteJWKSet(new URL(options.jwksUri));
  const requests: BlobRequest[] = [];
  const clock = options.clock ?? (() => new Date());

  // Known once listening; the listing XML names it.
  let accountUrl = '';
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const u = new URL(req.url ?? '/', 'http://blob');
    const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}) => {
      requests.push({ path: u.pathname, query: u.search, status, errorCode: code });
      const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}\nRequestId:${randomUUID()}\nTime:${clock().toISOString()}</Message></Error>`;
      res.writeHead(status, { 'content-type': 'application/xml', 'x-ms-error-code': code, ...headers });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.');
    const auth = /^Bearer ([\x21-\x7e]+)$/.exec(req.headers.authorization ?? '');
    if (!auth) {
      return fail(401, 'NoAuthenticationInformation', 'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.', {
        'www-authenticate': `Bearer authorization_uri=${options.issuer}oauth2/authorize resource_id=https://storage.azure.com`,
      });
    }
    const version = String(req.headers['x-ms-version'] ?? '');
    if (version < MIN_BEARER_VERSION) return fail(400, 'InvalidAuthenticationInfo', 'Authentication scheme Bearer is not supported in this version.');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(auth[1]!, jwks, { issuer: options.issuer, audience: AUDIENCES, currentDate: clock(), requiredClaims: ['exp', 'oid'] }));
    } catch {
      return fail(401, 'InvalidAuthenticationInfo', 'Server failed to authenticate the request. Please refer to the information in the www-authenticate header.');
    }
    if (!options.readers.includes(String(claims.oid))) return fail(403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.');
    const segments = u.pathname.split('/').slice(1).map(safeDecode);
    if (segments[0] !== account) return fail(400, 'InvalidUri', 'The requested URI does not represent any resource on the server.');
    const container = segments[1] ?? '';
    if (!/^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$/.test(container) || !(await isDir(join(options.root, container)))) return fail(404, 'ContainerNotFound', 'The specified container does not exist.');
    const dir = join(options.root, container);
    const name = segments.slice(2).join('/');
    if (name === '') {
      if (u.searchParams.get('restype') !== 'container' || u.searchParams.get('comp') !== 'list') return fail(400, 'InvalidQueryParameterValue', 'Value for one of the query parameters specified in the request URI is invalid.');
      const prefix = u.searchParams.get('prefix') ?? '';
      const max = Math.min(Number(u.searchParams.get('maxresults') ?? 5000) || 5000, options.pageSize ?? 5000, 5000);
      const marker = u.searchParams.get('marker') ?? '';
      const all = (await listFiles(dir)).filter((b) => b.name.startsWith(prefix) && b.name > marker);
      const page = all.slice(0, max);
      const next = all.length > max ? page[page.length - 1]!.name : '';
      requests.push({ path: u.pathname, query: u.search, status: 200, errorCode: null });
      res.writeHead(200, { 'content-type': 'application/xml', 'x-ms-version': version });
      res.end(listingXml(`${accountUrl}/`, container, prefix, marker, max, page, next));
      return;
    }
    const file = join(dir, ...name.split('/'));
    if (name.split('/').some((s) => s === '' || s === '.' || s === '..') || relative(dir, file).startsWith('..') || relative(dir, file).includes(`..${sep}`)) {
      return fail(400, 'InvalidUri', 'The requested URI does not represent any resource on the server.');
    }
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return fail(404, 'BlobNotFound', 'The specified blob does not exist.');
    requests.push({ path: u.pathname, query: u.search, status: 200, errorCode: null });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(st.size), 'x-ms-blob-type': 'BlockBlob', 'x-ms-version': version, etag: `"0x${st.mtimeMs.toString(16).toUpperCase()}"`, 'last-modified': st.mtime.toUTCString() });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  };

  const server = await serveOnLoopback(handle);
  accountUrl = `${server.url}/${account}`;
  return { accountUrl, requests, close: server.close };
}

async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

/** Every file under `dir` as a blob name ("/"-separated), in the service's lexicographic order. */
async function listFiles(dir: string): Promise<Array<{ name: string; size: number; mtime: Date }>> {
  const out: Array<{ name: string; size: number; mtime: Date }> = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const st = await stat(full);
    out.push({ name: relative(dir, full).split(sep).join('/'), size: st.size, mtime: st.mtime });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function listingXml(serviceEndpoint: string, container: string, prefix: string, marker: string, max: number, blobs: Array<{ name: string; size: number; mtime: Date }>, next: string): string {
  const items = blobs
    .map(
      (b) =>
        `<Blob><Name>${escapeXml(b.name)}</Name><Properties><Creation-Time>${b.mtime.toUTCString()}</Creation-Time><Last-Modified>${b.mtime.toUTCString()}</Last-Modified><Etag>0x${b.mtime.getTime().toString(16).toUpperCase()}</Etag><Content-Length>${b.size}</Content-Length><Content-Type>application/octet-stream</Content-Type><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties><OrMetadata /></Blob>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${escapeXml(serviceEndpoint)}" ContainerName="${escapeXml(container)}"><Prefix>${escapeXml(prefix)}</Prefix>${marker ? `<Marker>${escapeXml(marker)}</Marker>` : ''}<MaxResults>${max}</MaxResults><Blobs>${items}</Blobs>${next ? `<NextMarker>${escapeXml(next)}</NextMarker>` : '<NextMarker />'}</EnumerationResults>`;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return '\u0000';
  }
}
