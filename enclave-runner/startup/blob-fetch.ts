import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TokenCredential } from '@azure/identity';
import { type Dispatcher, request } from 'undici';
import type { AzureBlobSource } from '../config/types.js';
import { RunnerError, type RunnerErrorCode } from '../errors.js';

/** Blob Storage's REST version; bearer (Entra ID) authorisation needs 2017-11-09 or later. */
export const BLOB_API_VERSION = '2023-11-03';
/** The token audience of Azure Storage (any account): what the managed identity is asked for. */
export const STORAGE_SCOPE = 'https://storage.azure.com/.default';
/** A sealed model is one container per model file: more blobs than this is not a model. */
export const MAX_BLOBS = 10_000;
const MAX_LISTING_BYTES = 16 * 1024 * 1024;
const MAX_ERROR_BYTES = 16 * 1024;
const NAME_LIMIT = 1024;

export interface BlobFetchOptions {
  readonly source: AzureBlobSource;
  /** The private download directory is made here (mode 0700). */
  readonly parentDir: string;
  readonly credential: TokenCredential;
  readonly signal?: AbortSignal | undefined;
  readonly dispatcher?: Dispatcher | undefined;
  /** Time to the response headers, and the longest pause in a body. Default 30 s. */
  readonly timeoutMs?: number;
}

/** The downloaded sealed directory; `remove` deletes it (ciphertext only, but no longer needed once unsealed). */
export interface FetchedModel {
  readonly dir: string;
  readonly files: number;
  readonly bytes: number;
  /** Blobs under the prefix that are not part of a sealed model (left out). */
  readonly skipped: number;
  remove(): Promise<void>;
}

interface ListedBlob {
  readonly name: string;
  readonly relative: string;
  readonly size: number;
}

/**
 * Downloads a sealed model directory from Azure Blob Storage with the workload's identity: lists
 * `<container>?restype=container&comp=list&prefix=<prefix>` and GETs every `*.sealed` blob, `model.sig` and
 * `model.manifest.json` under the prefix into a fresh 0700 directory (files 0600). The files are ciphertext,
 * so disk is fine; their integrity is what the signature and unseal steps check. Fails closed with a typed
 * error on 401/403 (role missing), 404, sizes above `maxBytes` or the free disk, unsafe names, and blobs
 * whose length differs from the listing; on any failure the partial directory is removed.
 */
export async function fetchSealedModel(o: BlobFetchOptions): Promise<FetchedModel> {
  const client = new BlobClient(o);
  const listed = await client.list();
  const wanted = selectSealedBlobs(listed, o.source);
  const total = wanted.reduce((n, b) => n + b.size, 0);
  if (total > o.source.maxBytes) throw new RunnerError('ERR_RUNNER_BLOB_TOO_LARGE', `the sealed model is ${total} bytes, above sealedModel.maxBytes (${o.source.maxBytes})`);
  await ensureRoom(o.parentDir, total);
  let dir: string;
  try {
    dir = await mkdtemp(join(o.parentDir, 'zt4ai-sealed-'));
    await chmod(dir, 0o700);
  } catch (cause) {
    throw new RunnerError('ERR_RUNNER_BLOB_IO', `cannot make the download directory under ${o.parentDir}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    for (const blob of wanted) await client.download(blob, join(dir, ...blob.relative.split('/')));
  } catch (e) {
    await remove();
    throw e;
  }
  return { dir, files: wanted.length, bytes: total, skipped: listed.length - wanted.length, remove };
}

/** The sealed model's blobs among those listed: containers, the signature, the manifest; names checked for safety. */
function selectSealedBlobs(listed: readonly ListedBlob[], source: AzureBlobSource): ListedBlob[] {
  const wanted = listed.filter((b) => b.relative.endsWith('.sealed') || b.relative === 'model.sig' || b.relative === 'model.manifest.json');
  for (const b of wanted) {
    if (!safeRelativeName(b.relative)) throw new RunnerError('ERR_RUNNER_BLOB_INVALID', `the blob name "${printable(b.name)}" is not a safe relative path under the prefix`);
  }
  if (!wanted.some((b) => b.relative.endsWith('.sealed'))) {
    throw new RunnerError('ERR_RUNNER_BLOB_NOT_FOUND', `no *.sealed blob under ${source.container}/${source.prefix} (${listed.length} other blobs): upload the sealed model there (deploy/seal-and-upload.sh)`);
  }
  return wanted;
}

/** Segments that are not empty, ".", ".." and hold no backslash or control character. */
function safeRelativeName(name: string): boolean {
  if (name.length === 0 || name.length > NAME_LIMIT || name.includes('\\') || [...name].some(isControl)) return false;
  return name.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** The disk the download goes to must hold it: better a clear refusal than a full /tmp halfway through. */
async function ensureRoom(dir: string, bytes: number): Promise<void> {
  let free: number;
  try {
    const s = await statfs(dir);
    free = s.bavail * s.bsize;
  } catch (cause) {
    throw new RunnerError('ERR_RUNNER_BLOB_IO', `the download directory ${dir} cannot be used: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
  if (bytes > free) throw new RunnerError('ERR_RUNNER_BLOB_TOO_LARGE', `the sealed model is ${bytes} bytes but only ${free} are free under ${dir}`);
}

/** The two Blob Storage calls the runner makes, with a fresh token (the credential caches it) on each. */
class BlobClient {
  readonly #o: BlobFetchOptions;
  readonly #container: string;

  constructor(o: BlobFetchOptions) {
    this.#o = o;
    this.#container = `${o.source.accountUrl}/${encodeURIComponent(o.source.container)}`;
  }

  /** Every blob under the prefix, following NextMarker. */
  async list(): Promise<ListedBlob[]> {
    const { prefix } = this.#o.source;
    const out: ListedBlob[] = [];
    let marker = '';
    const seen = new Set<string>();
    do {
      const url = `${this.#container}?restype=container&comp=list&prefix=${encodeURIComponent(prefix)}&maxresults=5000${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`;
      const res = await this.#get(url, `list ${this.#o.source.container}/${prefix}`);
      const xml = await readCapped(res.body, MAX_LISTING_BYTES, 'the listing');
      const page = parseListing(xml);
      for (const b of page.blobs) {
        if (!b.name.startsWith(prefix)) throw new RunnerError('ERR_RUNNER_BLOB_INVALID', `the listing of prefix "${prefix}" named a blob outside it`);
        out.push({ ...b, relative: b.name.slice(prefix.length) });
      }
      if (out.length > MAX_BLOBS) throw new RunnerError('ERR_RUNNER_BLOB_TOO_LARGE', `more than ${MAX_BLOBS} blobs under ${this.#o.source.container}/${prefix}: not a sealed model directory`);
      marker = page.nextMarker;
      // A service that hands back a marker it gave before would keep the runner listing forever.
      if (seen.has(marker)) throw new RunnerError('ERR_RUNNER_BLOB_INVALID', `the listing of ${this.#o.source.container}/${prefix} repeats a continuation marker: a misbehaving storage endpoint`);
      seen.add(marker);
    } while (marker !== '');
    return out;
  }

  /** One blob into `file` (created 0600, never overwritten), exactly as many bytes as listed. */
  async download(blob: ListedBlob, file: string): Promise<void> {
    const what = `${this.#o.source.container}/${printable(blob.name)}`;
    const res = await this.#get(`${this.#container}/${blob.name.split('/').map(encodeURIComponent).join('/')}`, `get ${what}`);
    let received = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length;
        if (received > blob.size) return done(new RunnerError('ERR_RUNNER_BLOB_INVALID', `${what} is longer than the ${blob.size} bytes listed (it changed during the download)`));
        done(null, chunk);
      },
    });
    try {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await pipeline(res.body, counter, createWriteStream(file, { flags: 'wx', mode: 0o600 }), ...(this.#o.signal ? [{ signal: this.#o.signal }] : []));
    } catch (cause) {
      if (cause instanceof RunnerError) throw cause;
      const code = (cause as NodeJS.ErrnoException).code;
      if (this.#o.signal?.aborted) throw new RunnerError('ERR_RUNNER_STOPPED', undefined, { cause });
      if (code && /^E[A-Z]+$/.test(code) && !code.startsWith('ECONN') && code !== 'ETIMEDOUT') throw new RunnerError('ERR_RUNNER_BLOB_IO', `cannot write ${what} to the download directory: ${code}`, { cause });
      throw new RunnerError('ERR_RUNNER_BLOB_UNAVAILABLE', `${what}: the download broke off (${code ?? (cause as Error).name})`, { cause });
    }
    if (received !== blob.size) throw new RunnerError('ERR_RUNNER_BLOB_INVALID', `${what} has ${received} bytes, not the ${blob.size} listed (it changed during the download)`);
  }

  /** A GET with the bearer token; any status but 200 becomes its typed error (body drained, never logged whole). */
  async #get(url: string, what: string): Promise<Dispatcher.ResponseData> {
    let token: string | undefined;
    try {
      token = (await this.#o.credential.getToken(STORAGE_SCOPE, this.#o.signal ? { abortSignal: this.#o.signal } : {}))?.token;
    } catch (cause) {
      throw new RunnerError('ERR_RUNNER_BLOB_AUTH', `no Azure Storage token from the managed identity: ${firstLine(cause)}`, { cause });
    }
    if (!token) throw new RunnerError('ERR_RUNNER_BLOB_AUTH', 'the managed identity returned no Azure Storage token');
    const timeout = this.#o.timeoutMs ?? 30_000;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, 'x-ms-version': BLOB_API_VERSION, accept: 'application/xml, application/octet-stream' },
        headersTimeout: timeout,
        bodyTimeout: timeout,
        ...(this.#o.dispatcher ? { dispatcher: this.#o.dispatcher } : {}),
        ...(this.#o.signal ? { signal: this.#o.signal } : {}),
      });
    } catch (cause) {
      if (this.#o.signal?.aborted) throw new RunnerError('ERR_RUNNER_STOPPED', undefined, { cause });
      throw new RunnerError('ERR_RUNNER_BLOB_UNAVAILABLE', `${what} at ${new URL(url).origin} failed: ${(cause as { code?: string }).code ?? (cause as Error).name}`, { cause });
    }
    if (res.statusCode === 200) return res;
    const text = await readCapped(res.body, MAX_ERROR_BYTES, 'the error').catch(() => '');
    const code = String(res.headers['x-ms-error-code'] ?? /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1] ?? 'unknown');
    throw new RunnerError(codeForStatus(res.statusCode), `${what}: HTTP ${res.statusCode} ${printable(code)}${hint(res.statusCode)}`, { reason: { code: printable(code) } });
  }
}

function codeForStatus(status: number): RunnerErrorCode {
  if (status === 401 || status === 403) return 'ERR_RUNNER_BLOB_AUTH';
  if (status === 404) return 'ERR_RUNNER_BLOB_NOT_FOUND';
  if (status >= 500 || status === 408 || status === 429) return 'ERR_RUNNER_BLOB_UNAVAILABLE';
  return 'ERR_RUNNER_BLOB_INVALID';
}

function hint(status: number): string {
  if (status === 403) return ' (the runner identity needs Storage Blob Data Reader on the container; role assignments can take minutes to apply)';
  if (status === 404) return ' (check sealedModel.url: account, container and prefix)';
  return '';
}

/** A List Blobs page: names (XML-unescaped; `Encoded="true"` names percent-decoded), sizes, the next marker. */
export function parseListing(xml: string): { blobs: Array<{ name: string; size: number }>; nextMarker: string } {
  if (!/<EnumerationResults[\s>]/.test(xml)) throw new RunnerError('ERR_RUNNER_BLOB_INVALID', 'the container listing is not an EnumerationResults document');
  const blobs: Array<{ name: string; size: number }> = [];
  for (const m of xml.matchAll(/<Blob>([\s\S]*?)<\/Blob>/g)) {
    const body = m[1]!;
    const name = /<Name(?:\s+Encoded="(true|false)")?>([^<]*)<\/Name>/.exec(body);
    const size = /<Content-Length>(\d{1,16})<\/Content-Length>/.exec(body);
    if (!name || !size) throw new RunnerError('ERR_RUNNER_BLOB_INVALID', 'a blob in the container listing has no Name or Content-Length');
    let decoded = unescapeXml(name[2]!);
    if (name[1] === 'true') {
      try {
        decoded = decodeURIComponent(decoded);
      } catch {
        throw new RunnerError('ERR_RUNNER_BLOB_INVALID', 'a blob name in the listing has an invalid encoding');
      }
    }
    const bytes = Number(size[1]);
    if (!Number.isSafeInteger(bytes)) throw new RunnerError('ERR_RUNNER_BLOB_INVALID', 'a blob size in the listing is out of range');
    blobs.push({ name: decoded, size: bytes });
  }
  return { blobs, nextMarker: unescapeXml(/<NextMarker>([^<]*)<\/NextMarker>/.exec(xml)?.[1] ?? '') };
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const cp = e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\uFFFD';
  });
}

async function readCapped(body: AsyncIterable<Buffer>, limit: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > limit) throw new RunnerError('ERR_RUNNER_BLOB_INVALID', `${what} from Blob Storage is larger than ${limit} bytes`);
      chunks.push(chunk);
    }
  } catch (cause) {
    if (cause instanceof RunnerError) throw cause;
    throw new RunnerError('ERR_RUNNER_BLOB_UNAVAILABLE', `${what} from Blob Storage broke off (${(cause as { code?: string }).code ?? (cause as Error).name})`, { cause });
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Names and codes from the service, bounded and without control characters, for messages. */
function printable(s: string): string {
  return [...s.slice(0, 300)].map((c) => (isControl(c) ? '?' : c)).join('');
}

function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

/** An SDK error's first line (the credential's message names the IMDS answer, never a token). */
function firstLine(e: unknown): string {
  return printable(String((e as Error)?.message ?? e).split('\n')[0] ?? 'error');
}
