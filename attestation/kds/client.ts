import { setTimeout as sleep } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';
import { type CacheEntry, DiskCache, errorCode } from './disk-cache.js';
import { AttestationError } from '../errors.js';
import { decodeAmdExtensions } from '../snp/amd-extensions.js';
import { loadPemBundle, parseCertificate, toPem } from '../snp/certificate.js';
import { MAX_CRL_BYTES, parseCrl } from '../snp/crl.js';
import type { Product } from '../snp/product.js';
import type { Tcb } from '../snp/tcb.js';
import { type EndorsementKind, KDS_BASE_URL, certChainUrl, crlUrl, kdsHwId, vcekUrl } from './urls.js';

/**
 * Where VCEKs, AMD intermediate chains and CRLs come from. Nothing returned is trusted: callers verify
 * every certificate and CRL against the pinned ARKs.
 */
export interface EndorsementSource {
  /** DER VCEK for the chip and its REPORTED_TCB. */
  vcek(product: Product, chipId: Buffer, tcb: Tcb): Promise<Buffer>;
  /** PEM: the intermediate (ASK or ASVK) then the ARK. */
  certChain(product: Product, kind: EndorsementKind): Promise<string>;
  /** DER CRL signed by the product's ARK. */
  crl(product: Product, kind: EndorsementKind): Promise<Buffer>;
}

export interface KdsClientOptions {
  /** Defaults to https://kdsintf.amd.com. */
  readonly baseUrl?: string;
  /** Disk cache; entries are kept per KDS host. Without it only in-memory caching applies. */
  readonly cacheDir?: string;
  /** Refuse every network access with ERR_KDS_OFFLINE; cache hits still work. */
  readonly offline?: boolean;
  /** Retries after a 429, a 5xx or a network error. Default 4. */
  readonly maxRetries?: number;
  /** First retry delay, doubled each retry unless Retry-After says otherwise. Default 10 s (go-sev-guest). */
  readonly initialBackoffMs?: number;
  /** Upper bound on any single retry delay, including one asked for by Retry-After. Default 60 s. */
  readonly maxBackoffMs?: number;
  /** Per attempt, headers and body together. Default (and when 0) 30 s. */
  readonly timeoutMs?: number;
  /** Refetch a cached CRL without nextUpdate after this long. Default 24 h. */
  readonly crlMaxAgeMs?: number;
  readonly dispatcher?: Dispatcher;
  /** One line per fetch, retry and cache decision, for a progress display. Never carries key material. */
  readonly onProgress?: (message: string) => void;
  /** Clock for CRL freshness; tests pin it. */
  readonly clock?: () => Date;
}

/** Certificates are 1-2 KiB; the cap keeps a hostile or broken server from filling memory. */
const MAX_CERT_BODY = 64 * 1024;
const MEMORY_ENTRIES = 256;

interface Resource<T> {
  readonly what: string;
  readonly url: string;
  readonly cacheName: string;
  readonly maxBytes: number;
  readonly accept: string;
  readonly notFoundHint: string;
  /** Throws when the bytes are not what was asked for; such bytes are never cached. */
  decode(bytes: Buffer): T;
  /** Whether a cached value may still be served. Absent: immutable. */
  fresh?(value: T, fetchedAt: Date): boolean;
}


type Attempt = { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly reason: string; readonly status?: number; readonly retryAfterMs?: number; readonly cause?: unknown };

/**
 * Fetches endorsements from AMD KDS (shared/docs/snp-evidence.md §9.5, pitfall 22): caches on disk and in
 * memory, shares one request among concurrent identical calls, retries 429/5xx with backoff, caps bodies,
 * and checks every response's shape before caching it.
 */
export class KdsClient implements EndorsementSource {
  private readonly base: string;
  private readonly offline: boolean;
  private readonly maxRetries: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly crlMaxAgeMs: number;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly progress: (message: string) => void;
  private readonly clock: () => Date;
  private readonly disk: DiskCache | null;
  private readonly memory = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(options: KdsClientOptions = {}) {
    this.base = options.baseUrl ?? KDS_BASE_URL;
    this.offline = options.offline ?? false;
    this.maxRetries = nonNegative(options.maxRetries ?? 4, 'maxRetries');
    this.initialBackoffMs = nonNegative(options.initialBackoffMs ?? 10_000, 'initialBackoffMs');
    this.maxBackoffMs = nonNegative(options.maxBackoffMs ?? 60_000, 'maxBackoffMs');
    this.timeoutMs = nonNegative(options.timeoutMs ?? 30_000, 'timeoutMs') || 30_000;
    this.crlMaxAgeMs = nonNegative(options.crlMaxAgeMs ?? 24 * 3600_000, 'crlMaxAgeMs');
    this.dispatcher = options.dispatcher;
    this.progress = options.onProgress ?? (() => {});
    this.clock = options.clock ?? (() => new Date());
    // certChainUrl validates the base URL once, so a bad --kds-url fails at construction, not mid-verify.
    const host = new URL(certChainUrl(this.base, 'Milan', 'VCEK')).host;
    this.disk = options.cacheDir === undefined ? null : new DiskCache(options.cacheDir, host, this.progress);
  }

  /** The VCEK for a chip at REPORTED_TCB; the response must name that chip and TCB before it is cached. */
  vcek(product: Product, chipId: Buffer, tcb: Tcb): Promise<Buffer> {
    const url = vcekUrl(this.base, product, chipId, tcb);
    const hwId = kdsHwId(product, chipId);
    const spl = `${product === 'Turin' ? `fmc${tcb.fmc}-` : ''}bl${tcb.bootloader}-tee${tcb.tee}-snp${tcb.snp}-ucode${tcb.microcode}`;
    return this.get({
      what: `${product} VCEK`,
      url,
      cacheName: `vcek-${product}-${hwId}-${spl}.der`,
      maxBytes: MAX_CERT_BODY,
      accept: 'application/pkix-cert, application/octet-stream',
      notFoundHint: 'KDS has no VCEK for this chip at this TCB: check the product, that CHIP_ID is not masked, and that REPORTED_TCB (not CURRENT_TCB) was used',
      decode: (bytes) => decodeVcek(bytes, product, hwId, tcb),
    });
  }

  /** ASK+ARK (VCEK) or ASVK+ARK (VLEK) as PEM, re-encoded from the parsed certificates. */
  certChain(product: Product, kind: EndorsementKind): Promise<string> {
    return this.get({
      what: `${product} ${kind} cert_chain`,
      url: certChainUrl(this.base, product, kind),
      cacheName: `cert_chain-${kind.toLowerCase()}-${product}.pem`,
      maxBytes: MAX_CERT_BODY,
      accept: 'application/x-pem-file, text/plain',
      notFoundHint: 'check the product name',
      decode: (bytes) => decodeChain(bytes, product, kind),
    });
  }

  /** The product's ARK-signed CRL; a cached one is served only until its nextUpdate. */
  crl(product: Product, kind: EndorsementKind): Promise<Buffer> {
    return this.get({
      what: `${product} ${kind} CRL`,
      url: crlUrl(this.base, product, kind),
      cacheName: `crl-${kind.toLowerCase()}-${product}.json`,
      maxBytes: MAX_CRL_BYTES,
      accept: 'application/pkix-crl, application/octet-stream',
      notFoundHint: 'check the product name',
      decode: (bytes) => decodeCrl(bytes, product),
      fresh: (der, fetchedAt) => {
        const next = parseCrl(der).nextUpdate;
        const now = this.clock().getTime();
        return next === null ? now - fetchedAt.getTime() < this.crlMaxAgeMs : now <= next.getTime();
      },
    });
  }

  /** One request per URL at a time: concurrent callers share the same promise. */
  private get<T>(res: Resource<T>): Promise<T> {
    const running = this.inflight.get(res.url);
    if (running) return running as Promise<T>;
    const p = this.load(res).finally(() => this.inflight.delete(res.url));
    this.inflight.set(res.url, p);
    return p;
  }

  private async load<T>(res: Resource<T>): Promise<T> {
    const memo = this.usable(res, this.memory.get(res.cacheName));
    if (memo !== undefined) return memo;
    const stored = await this.disk?.read(res.cacheName, res.maxBytes);
    const cached = this.usable(res, stored ?? undefined, true);
    if (cached !== undefined) {
      this.remember(res.cacheName, stored!);
      this.progress(`using cached ${res.what}`);
      return cached;
    }
    if (this.offline) {
      throw new AttestationError('ERR_KDS_OFFLINE', `offline mode: no usable cached ${res.what}; it would have to be fetched from ${res.url}`);
    }
    const body = await this.fetchWithRetry(res);
    let value: T;
    try {
      value = res.decode(body);
    } catch (cause) {
      const why = cause instanceof AttestationError ? `: ${cause.message}` : '';
      throw new AttestationError('ERR_KDS_FETCH', `${res.url} returned a body that is not a valid ${res.what}${why}`, { cause });
    }
    const entry: CacheEntry = { bytes: body, fetchedAt: this.clock() };
    this.remember(res.cacheName, entry);
    await this.disk?.write(res.cacheName, entry);
    return value;
  }

  /** Decodes a cache entry; a corrupt or expired one is treated as a miss, never trusted. */
  private usable<T>(res: Resource<T>, entry: CacheEntry | undefined, fromDisk = false): T | undefined {
    if (!entry) return undefined;
    try {
      const value = res.decode(entry.bytes);
      if (!res.fresh || res.fresh(value, entry.fetchedAt)) return value;
      this.progress(`cached ${res.what} is out of date`);
    } catch (e) {
      if (fromDisk) this.progress(`ignoring unusable cached ${res.what}: ${e instanceof Error ? e.message : 'unreadable'}`);
    }
    return undefined;
  }

  private remember(key: string, entry: CacheEntry): void {
    if (this.memory.size >= MEMORY_ENTRIES) this.memory.delete(this.memory.keys().next().value as string);
    this.memory.set(key, entry);
  }

  private async fetchWithRetry<T>(res: Resource<T>): Promise<Buffer> {
    for (let retry = 0; ; retry++) {
      this.progress(`fetching ${res.what} from ${res.url}${retry > 0 ? ` (retry ${retry} of ${this.maxRetries})` : ''}`);
      const attempt = await this.fetchOnce(res);
      if (attempt.ok) return attempt.body;
      if (retry >= this.maxRetries) throw exhausted(res, attempt, retry + 1);
      const backoff = this.initialBackoffMs * 2 ** retry;
      const delay = Math.min(attempt.retryAfterMs ?? backoff, this.maxBackoffMs);
      this.progress(`${res.url}: ${attempt.reason}; retrying in ${delay} ms`);
      await sleep(delay);
    }
  }

  /** One HTTP GET. Returns a retryable failure, or throws a final one. */
  private async fetchOnce<T>(res: Resource<T>): Promise<Attempt> {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(res.url, {
        method: 'GET',
        headers: { accept: res.accept },
        signal: AbortSignal.timeout(this.timeoutMs),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      });
    } catch (cause) {
      return { ok: false, reason: `request failed (${errorCode(cause)})`, cause };
    }
    const { statusCode: status, headers, body } = response;
    if (status === 200) return this.readBody(res, body, headers['content-length']);
    await discard(body);
    if (status === 429 || status >= 500) {
      const retryAfterMs = parseRetryAfter(headers['retry-after'], this.clock());
      return { ok: false, reason: `HTTP ${status}`, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    }
    const hint = status === 404 ? `; ${res.notFoundHint}` : '';
    throw new AttestationError('ERR_KDS_FETCH', `AMD KDS answered HTTP ${status} for ${res.url}${hint}`);
  }

  private async readBody<T>(res: Resource<T>, body: Dispatcher.ResponseData['body'], declared: string | string[] | undefined): Promise<Attempt> {
    const tooLarge = (): AttestationError =>
      new AttestationError('ERR_KDS_FETCH', `${res.url} returned more than ${res.maxBytes} bytes for the ${res.what}; refused`);
    if (typeof declared === 'string' && Number(declared) > res.maxBytes) {
      body.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > res.maxBytes) {
          body.destroy();
          throw tooLarge();
        }
        chunks.push(chunk);
      }
    } catch (cause) {
      if (cause instanceof AttestationError) throw cause;
      return { ok: false, reason: `reading the body failed (${errorCode(cause)})`, cause };
    }
    return { ok: true, body: Buffer.concat(chunks, total) };
  }
}

function decodeVcek(bytes: Buffer, product: Product, hwIdHex: string, tcb: Tcb): Buffer {
  const cert = parseCertificate(bytes);
  const ext = decodeAmdExtensions(cert.extensions);
  // The cache is keyed by chip and TCB and never expires, so a VCEK for anything else must not enter it.
  if (ext.hwID?.toString('hex') !== hwIdHex) {
    throw new AttestationError('ERR_SNP_CHIP_ID_MISMATCH', 'the VCEK names a different chip than was requested');
  }
  const wanted = [tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode, ...(product === 'Turin' ? [tcb.fmc] : [])];
  const got = [ext.blSPL, ext.teeSPL, ext.snpSPL, ext.ucodeSPL, ...(product === 'Turin' ? [ext.fmcSPL] : [])];
  if (wanted.some((w, i) => w !== got[i])) {
    throw new AttestationError('ERR_SNP_TCB_MISMATCH', 'the VCEK was issued for a different TCB than was requested');
  }
  return Buffer.from(cert.der);
}

function decodeChain(bytes: Buffer, product: Product, kind: EndorsementKind): string {
  const certs = loadPemBundle(bytes.toString('utf8'));
  const expected = [kind === 'VCEK' ? `SEV-${product}` : `SEV-VLEK-${product}`, `ARK-${product}`];
  const names = certs.map((c) => c.subjectCN ?? '(no CN)');
  if (names.length !== 2 || names[0] !== expected[0] || names[1] !== expected[1]) {
    throw new AttestationError('ERR_CERT_SHAPE', `expected ${expected.join(' then ')}; got ${names.join(', ')}`);
  }
  return certs.map((c) => toPem(c.der)).join('');
}

function decodeCrl(bytes: Buffer, product: Product): Buffer {
  const crl = parseCrl(bytes);
  if (crl.issuerCN !== `ARK-${product}`) {
    throw new AttestationError('ERR_CRL_INVALID', `CRL issuer is "${crl.issuerCN ?? '(no CN)'}", not ARK-${product}`);
  }
  return Buffer.from(bytes);
}

function exhausted<T>(res: Resource<T>, last: Extract<Attempt, { ok: false }>, attempts: number): AttestationError {
  const options = last.cause === undefined ? undefined : { cause: last.cause };
  if (last.status === 429) {
    return new AttestationError('ERR_KDS_RATE_LIMITED', `AMD KDS rate-limited ${res.url} (HTTP 429) on all ${attempts} attempts`, options);
  }
  return new AttestationError('ERR_KDS_FETCH', `AMD KDS did not serve ${res.url} after ${attempts} attempts: ${last.reason}`, options);
}

/** Retry-After is delta-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const trimmed = v.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

async function discard(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    // Reading a little lets undici reuse the connection; past the limit it simply closes it.
    await body.dump({ limit: MAX_CERT_BODY });
  } catch {
    body.destroy();
  }
}

/** A short, safe description of a transport error: its code (ECONNREFUSED, UND_ERR_...) or its name. */

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new AttestationError('ERR_INPUT', `KdsClient option ${name} must be a non-negative number`);
  return value;
}
