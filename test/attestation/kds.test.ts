import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AttestationError, type AttestationErrorCode } from '../../attestation/errors.js';
import { KdsClient, type KdsClientOptions, parseRetryAfter } from '../../attestation/kds/client.js';
import { KDS_BASE_URL, certChainUrl, crlUrl, vcekUrl } from '../../attestation/kds/urls.js';
import { loadPemBundle, parseCertificate, toPem } from '../../attestation/snp/certificate.js';
import type { Tcb } from '../../attestation/snp/tcb.js';
import { makeCrl, makeTestPki, makeVcek } from '../helpers/crl-fixtures.js';

// ---------------------------------------------------------------------------------------------------------
// URL builders

const GO_SEV_GUEST_CHIP_ID =
  '3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d';

describe('KDS URL builders', () => {
  it('builds the go-sev-guest Milan VCEK URL', () => {
    const tcb: Tcb = { bootloader: 2, tee: 0, snp: 5, microcode: 68 };
    expect(vcekUrl(KDS_BASE_URL, 'Milan', Buffer.from(GO_SEV_GUEST_CHIP_ID, 'hex'), tcb)).toBe(
      `https://kdsintf.amd.com/vcek/v1/Milan/${GO_SEV_GUEST_CHIP_ID}?blSPL=2&teeSPL=0&snpSPL=5&ucodeSPL=68`,
    );
  });

  it('builds the Turin VCEK URL from the first 8 CHIP_ID bytes, with fmcSPL first', () => {
    const chipId = Buffer.concat([Buffer.from('3b42092f69c656d3', 'hex'), Buffer.alloc(56)]);
    const tcb: Tcb = { fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 };
    expect(vcekUrl(KDS_BASE_URL, 'Turin', chipId, tcb)).toBe(
      'https://kdsintf.amd.com/vcek/v1/Turin/3b42092f69c656d3?fmcSPL=0&blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71',
    );
  });

  it('builds a Genoa VCEK URL in lower-case hex, ignoring a stray fmc, with a trailing-slash base', () => {
    const chipId = Buffer.alloc(64, 0xab);
    const url = vcekUrl('https://kds.example/', 'Genoa', chipId, { bootloader: 9, tee: 0, snp: 23, microcode: 0xdb, fmc: 3 });
    expect(url).toBe(`https://kds.example/vcek/v1/Genoa/${'ab'.repeat(64)}?blSPL=9&teeSPL=0&snpSPL=23&ucodeSPL=219`);
    expect(url).not.toMatch(/[A-F]/);
  });

  it('builds cert_chain and CRL URLs for VCEK and VLEK', () => {
    expect(certChainUrl(KDS_BASE_URL, 'Milan', 'VCEK')).toBe('https://kdsintf.amd.com/vcek/v1/Milan/cert_chain');
    expect(certChainUrl(KDS_BASE_URL, 'Turin', 'VLEK')).toBe('https://kdsintf.amd.com/vlek/v1/Turin/cert_chain');
    expect(crlUrl(KDS_BASE_URL, 'Genoa', 'VCEK')).toBe('https://kdsintf.amd.com/vcek/v1/Genoa/crl');
    expect(crlUrl(KDS_BASE_URL, 'Genoa', 'VLEK')).toBe('https://kdsintf.amd.com/vlek/v1/Genoa/crl');
  });

  const tcb: Tcb = { bootloader: 1, tee: 0, snp: 1, microcode: 1 };
  const cases: [string, () => unknown, AttestationErrorCode][] = [
    ['an all-zero (masked) CHIP_ID', () => vcekUrl(KDS_BASE_URL, 'Milan', Buffer.alloc(64), tcb), 'ERR_SNP_CHIP_ID_MASKED'],
    ['an all-zero Turin CHIP_ID', () => vcekUrl(KDS_BASE_URL, 'Turin', Buffer.alloc(64), { ...tcb, fmc: 0 }), 'ERR_SNP_CHIP_ID_MASKED'],
    ['a Turin CHIP_ID with bytes 8..63 set', () => vcekUrl(KDS_BASE_URL, 'Turin', Buffer.alloc(64, 1), { ...tcb, fmc: 0 }), 'ERR_INPUT'],
    ['a Turin TCB without fmc', () => vcekUrl(KDS_BASE_URL, 'Turin', Buffer.concat([Buffer.alloc(8, 1), Buffer.alloc(56)]), tcb), 'ERR_INPUT'],
    ['a 63-byte CHIP_ID', () => vcekUrl(KDS_BASE_URL, 'Milan', Buffer.alloc(63, 1), tcb), 'ERR_INPUT'],
    ['an SPL above 255', () => vcekUrl(KDS_BASE_URL, 'Milan', Buffer.alloc(64, 1), { ...tcb, snp: 256 }), 'ERR_INPUT'],
    ['an unknown product', () => crlUrl(KDS_BASE_URL, 'Rome' as never, 'VCEK'), 'ERR_INPUT'],
    ['a non-http base', () => crlUrl('file:///etc', 'Milan', 'VCEK'), 'ERR_INPUT'],
  ];
  for (const [label, build, code] of cases) {
    it(`refuses ${label} with ${code}`, () => {
      expect(build).toThrow(AttestationError);
      try {
        build();
      } catch (e) {
        expect((e as AttestationError).code).toBe(code);
      }
    });
  }

  it('refuses a base URL with credentials without echoing them', () => {
    expect(() => crlUrl('https://user:hunter2@kds.example', 'Milan', 'VCEK')).toThrow(/credentials/);
    expect(() => crlUrl('https://user:hunter2@kds.example', 'Milan', 'VCEK')).not.toThrow(/hunter2/);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(['7'], now)).toBe(7000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Fake KDS on 127.0.0.1

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const pki = makeTestPki('Milan');
const turinPki = makeTestPki('Turin');
const CHIP_ID = randomBytes(64);
const TCB: Tcb = { bootloader: 3, tee: 0, snp: 8, microcode: 115 };
const VCEK = makeVcek(pki, CHIP_ID, TCB);
const TURIN_CHIP_ID = Buffer.concat([randomBytes(8), Buffer.alloc(56)]);
const TURIN_TCB: Tcb = { fmc: 1, bootloader: 1, tee: 0, snp: 2, microcode: 71 };
const TURIN_VCEK = makeVcek(turinPki, TURIN_CHIP_ID, TURIN_TCB);
const CHAIN_PEM = toPem(pki.ask.der) + toPem(pki.ark.der);

let server: Server;
let baseUrl: string;
let agent: Agent;
let handler: Handler;
let requests: string[];
let cacheDir: string;

const send = (status: number, body: Buffer | string = '', headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, headers);
  res.end(body);
};
/** Answers with each handler in turn, repeating the last one. */
const sequence = (...handlers: Handler[]): Handler => {
  let i = 0;
  return (req, res) => handlers[Math.min(i++, handlers.length - 1)]!(req, res);
};

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent({ connections: 8 });
});

afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(async () => {
  requests = [];
  handler = send(500);
  cacheDir = await mkdtemp(join(tmpdir(), 'zt4ai-kds-'));
});

afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

function client(options: Partial<KdsClientOptions> = {}): KdsClient {
  return new KdsClient({ baseUrl, cacheDir, dispatcher: agent, initialBackoffMs: 1, maxBackoffMs: 50, timeoutMs: 5_000, ...options });
}

async function rejection(p: Promise<unknown>): Promise<AttestationError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AttestationError);
    return e as AttestationError;
  }
  throw new Error('expected a rejection');
}

async function cacheFiles(): Promise<string[]> {
  const hosts = await readdir(cacheDir).catch(() => []);
  const files: string[] = [];
  for (const h of hosts) for (const f of await readdir(join(cacheDir, h))) files.push(`${h}/${f}`);
  return files;
}

describe('KdsClient: fetching and caching', () => {
  it('fetches a VCEK once, then serves it from memory and from disk', async () => {
    handler = send(200, VCEK);
    const first = client();
    const got = await first.vcek('Milan', CHIP_ID, TCB);
    expect(got.equals(VCEK)).toBe(true);
    expect(parseCertificate(got).subjectCN).toBe('SEV-VCEK');
    expect(requests).toEqual([vcekUrl(baseUrl, 'Milan', CHIP_ID, TCB).slice(baseUrl.length)]);
    expect((await first.vcek('Milan', CHIP_ID, TCB)).equals(VCEK)).toBe(true);
    const progress: string[] = [];
    const second = client({ onProgress: (m) => progress.push(m) });
    expect((await second.vcek('Milan', CHIP_ID, TCB)).equals(VCEK)).toBe(true);
    expect(requests).toHaveLength(1);
    expect(progress.join('\n')).toMatch(/using cached Milan VCEK/);
    expect((await cacheFiles()).some((f) => f.endsWith('.tmp'))).toBe(false);
  });

  it('keys the cache by the full TCB: another TCB is another request', async () => {
    const otherTcb = { ...TCB, microcode: 116 };
    handler = (req, res) => send(200, req.url?.includes('ucodeSPL=116') ? makeVcek(pki, CHIP_ID, otherTcb) : VCEK)(req, res);
    await client().vcek('Milan', CHIP_ID, TCB);
    await client().vcek('Milan', CHIP_ID, otherTcb);
    expect(requests).toHaveLength(2);
  });

  it('fetches a Turin VCEK with the 8-byte hwID and fmcSPL', async () => {
    handler = send(200, TURIN_VCEK);
    expect((await client().vcek('Turin', TURIN_CHIP_ID, TURIN_TCB)).equals(TURIN_VCEK)).toBe(true);
    expect(requests[0]).toBe(`/vcek/v1/Turin/${TURIN_CHIP_ID.subarray(0, 8).toString('hex')}?fmcSPL=1&blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71`);
  });

  it('shares one HTTP request among concurrent identical calls', async () => {
    handler = (req, res) => setTimeout(() => send(200, VCEK)(req, res), 50);
    const c = client();
    const results = await Promise.all(Array.from({ length: 5 }, () => c.vcek('Milan', CHIP_ID, TCB)));
    expect(requests).toHaveLength(1);
    for (const r of results) expect(r.equals(VCEK)).toBe(true);
  });

  it('fetches the cert chain, checks its order and re-encodes it as PEM', async () => {
    handler = send(200, `junk before the chain!\n${CHAIN_PEM}\n`);
    const pem = await client().certChain('Milan', 'VCEK');
    expect(loadPemBundle(pem).map((c) => c.subjectCN)).toEqual(['SEV-Milan', 'ARK-Milan']);
    expect(pem).not.toContain('junk before the chain!');
    expect(requests).toEqual(['/vcek/v1/Milan/cert_chain']);
    await client({ offline: true }).certChain('Milan', 'VCEK');
  });

  it('refuses a cert chain in the wrong order or for another product', async () => {
    handler = send(200, toPem(pki.ark.der) + toPem(pki.ask.der));
    expect((await rejection(client().certChain('Milan', 'VCEK'))).code).toBe('ERR_KDS_FETCH');
    handler = send(200, CHAIN_PEM);
    expect((await rejection(client().certChain('Genoa', 'VCEK'))).code).toBe('ERR_KDS_FETCH');
    expect((await rejection(client().certChain('Milan', 'VLEK'))).code).toBe('ERR_KDS_FETCH');
    expect(await cacheFiles()).toEqual([]);
  });
});

describe('KdsClient: offline mode', () => {
  it('refuses to fetch and names the URL it would have fetched', async () => {
    handler = send(200, VCEK);
    const e = await rejection(client({ offline: true }).vcek('Milan', CHIP_ID, TCB));
    expect(e.code).toBe('ERR_KDS_OFFLINE');
    expect(e.message).toContain(vcekUrl(baseUrl, 'Milan', CHIP_ID, TCB));
    const crlError = await rejection(client({ offline: true, cacheDir: join(cacheDir, 'none') }).crl('Milan', 'VCEK'));
    expect(crlError.code).toBe('ERR_KDS_OFFLINE');
    expect(crlError.message).toContain(`${baseUrl}/vcek/v1/Milan/crl`);
    expect(requests).toEqual([]);
  });

  it('serves a disk cache hit while offline', async () => {
    handler = send(200, VCEK);
    await client().vcek('Milan', CHIP_ID, TCB);
    expect((await client({ offline: true }).vcek('Milan', CHIP_ID, TCB)).equals(VCEK)).toBe(true);
    expect(requests).toHaveLength(1);
  });
});

describe('KdsClient: retries', () => {
  it('retries a 429, honouring Retry-After seconds', async () => {
    handler = sequence(send(429, '', { 'retry-after': '1' }), send(200, VCEK));
    const progress: string[] = [];
    const started = Date.now();
    const got = await client({ maxBackoffMs: 5_000, onProgress: (m) => progress.push(m) }).vcek('Milan', CHIP_ID, TCB);
    expect(got.equals(VCEK)).toBe(true);
    expect(requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(progress.join('\n')).toContain('HTTP 429; retrying in 1000 ms');
  });

  it('caps a long Retry-After at maxBackoffMs', async () => {
    handler = sequence(send(429, '', { 'retry-after': '3600' }), send(200, VCEK));
    const progress: string[] = [];
    await client({ maxBackoffMs: 20, onProgress: (m) => progress.push(m) }).vcek('Milan', CHIP_ID, TCB);
    expect(progress.join('\n')).toContain('retrying in 20 ms');
  });

  it('backs off exponentially without Retry-After', async () => {
    handler = sequence(send(503), send(503), send(503), send(200, VCEK));
    const progress: string[] = [];
    await client({ initialBackoffMs: 2, maxBackoffMs: 1_000, onProgress: (m) => progress.push(m) }).vcek('Milan', CHIP_ID, TCB);
    const delays = progress.flatMap((m) => /retrying in (\d+) ms/.exec(m)?.[1] ?? []).map(Number);
    expect(delays).toEqual([2, 4, 8]);
  });

  it('gives up on a permanent 429 with ERR_KDS_RATE_LIMITED after maxRetries', async () => {
    handler = send(429, 'slow down');
    const e = await rejection(client({ maxRetries: 2 }).vcek('Milan', CHIP_ID, TCB));
    expect(e.code).toBe('ERR_KDS_RATE_LIMITED');
    expect(requests).toHaveLength(3);
  });

  it('retries a 500 and succeeds', async () => {
    handler = sequence(send(500), send(200, VCEK));
    expect((await client().vcek('Milan', CHIP_ID, TCB)).equals(VCEK)).toBe(true);
    expect(requests).toHaveLength(2);
  });

  it('gives up on a permanent 500 with ERR_KDS_FETCH naming status and URL, not the body', async () => {
    handler = send(500, 'INTERNAL-STACK-TRACE');
    const e = await rejection(client({ maxRetries: 1 }).vcek('Milan', CHIP_ID, TCB));
    expect(e.code).toBe('ERR_KDS_FETCH');
    expect(e.message).toContain('HTTP 500');
    expect(e.message).toContain(vcekUrl(baseUrl, 'Milan', CHIP_ID, TCB));
    expect(e.message).not.toContain('INTERNAL-STACK-TRACE');
    expect(requests).toHaveLength(2);
  });

  it('does not retry a 404 and hints at the TCB or chip id', async () => {
    handler = send(404, 'not here');
    const e = await rejection(client().vcek('Milan', CHIP_ID, TCB));
    expect(e.code).toBe('ERR_KDS_FETCH');
    expect(e.message).toMatch(/404/);
    expect(e.message).toMatch(/REPORTED_TCB/);
    expect(e.message).not.toContain('not here');
    expect(requests).toHaveLength(1);
  });

  it('retries a refused connection, then fails with ERR_KDS_FETCH', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const progress: string[] = [];
    const e = await rejection(client({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1, onProgress: (m) => progress.push(m) }).vcek('Milan', CHIP_ID, TCB));
    expect(e.code).toBe('ERR_KDS_FETCH');
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(progress.filter((m) => m.startsWith('fetching'))).toHaveLength(2);
  });

  it('times out a server that never answers', async () => {
    handler = () => undefined;
    const e = await rejection(client({ timeoutMs: 100, maxRetries: 0 }).vcek('Milan', CHIP_ID, TCB));
    expect(e.code).toBe('ERR_KDS_FETCH');
    expect(e.message).toMatch(/TimeoutError|UND_ERR_HEADERS_TIMEOUT/);
  });
});

describe('KdsClient: hostile or broken responses', () => {
  it('refuses an oversized body without retrying or caching it', async () => {
    handler = send(200, Buffer.alloc(70 * 1024, 0x30));
    const e = await rejection(client().vcek('Milan', CHIP_ID, TCB));
    expect(e.code).toBe('ERR_KDS_FETCH');
    expect(e.message).toMatch(/more than 65536 bytes/);
    expect(requests).toHaveLength(1);
    expect(await cacheFiles()).toEqual([]);
  });

  it('refuses an oversized chunked body (no Content-Length)', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 80; i++) res.write(Buffer.alloc(1024, 0x30));
      res.end();
    };
    expect((await rejection(client().vcek('Milan', CHIP_ID, TCB))).code).toBe('ERR_KDS_FETCH');
  });

  it('refuses a garbage body and does not cache it', async () => {
    handler = send(200, randomBytes(700));
    const e = await rejection(client().vcek('Milan', CHIP_ID, TCB));
    expect(e.code).toBe('ERR_KDS_FETCH');
    expect(e.message).toMatch(/not a valid Milan VCEK/);
    expect(await cacheFiles()).toEqual([]);
    handler = send(200, VCEK);
    await client().vcek('Milan', CHIP_ID, TCB);
    expect(requests).toHaveLength(2);
  });

  it('refuses a well-formed VCEK for another chip or TCB (it would poison the immutable cache)', async () => {
    handler = send(200, makeVcek(pki, randomBytes(64), TCB));
    expect((await rejection(client().vcek('Milan', CHIP_ID, TCB))).code).toBe('ERR_KDS_FETCH');
    handler = send(200, makeVcek(pki, CHIP_ID, { ...TCB, snp: 7 }));
    expect((await rejection(client().vcek('Milan', CHIP_ID, TCB))).code).toBe('ERR_KDS_FETCH');
    expect(await cacheFiles()).toEqual([]);
  });

  it('ignores a corrupt cache file, refetches and replaces it', async () => {
    handler = send(200, VCEK);
    await client().vcek('Milan', CHIP_ID, TCB);
    const [file] = await cacheFiles();
    await writeFile(join(cacheDir, file!), 'garbage');
    const progress: string[] = [];
    expect((await client({ onProgress: (m) => progress.push(m) }).vcek('Milan', CHIP_ID, TCB)).equals(VCEK)).toBe(true);
    expect(requests).toHaveLength(2);
    expect(progress.join('\n')).toMatch(/ignoring unusable cached/);
    expect((await readFile(join(cacheDir, file!))).equals(VCEK)).toBe(true);
  });

  it('still answers when the cache cannot be written', async () => {
    const blocked = join(cacheDir, 'a-file');
    await writeFile(blocked, 'not a directory');
    handler = send(200, VCEK);
    const progress: string[] = [];
    expect((await client({ cacheDir: blocked, onProgress: (m) => progress.push(m) }).vcek('Milan', CHIP_ID, TCB)).equals(VCEK)).toBe(true);
    expect(progress.join('\n')).toMatch(/could not write cache file/);
  });

  it('keeps separate caches per KDS host', async () => {
    handler = send(200, VCEK);
    await client().vcek('Milan', CHIP_ID, TCB);
    const e = await rejection(client({ baseUrl: 'http://localhost:1', offline: true }).vcek('Milan', CHIP_ID, TCB));
    expect(e.code).toBe('ERR_KDS_OFFLINE');
  });
});

describe('KdsClient: CRLs', () => {
  const thisUpdate = new Date('2026-01-01T00:00:00Z');
  const nextUpdate = new Date('2026-02-01T00:00:00Z');
  const CRL = makeCrl({ issuerCN: 'ARK-Milan', signerKey: pki.arkKey.privateKey, thisUpdate, nextUpdate });
  const at = (iso: string) => () => new Date(iso);

  it('caches a CRL until its nextUpdate, then fetches a fresh one', async () => {
    handler = send(200, CRL);
    expect((await client({ clock: at('2026-01-10T00:00:00Z') }).crl('Milan', 'VCEK')).equals(CRL)).toBe(true);
    expect(requests).toEqual(['/vcek/v1/Milan/crl']);
    await client({ clock: at('2026-01-31T00:00:00Z'), offline: true }).crl('Milan', 'VCEK');
    expect(requests).toHaveLength(1);
    await client({ clock: at('2026-02-02T00:00:00Z') }).crl('Milan', 'VCEK');
    expect(requests).toHaveLength(2);
    const [file] = await cacheFiles();
    expect(JSON.parse(await readFile(join(cacheDir, file!), 'utf8'))).toMatchObject({ fetchedAt: '2026-02-02T00:00:00.000Z' });
  });

  it('will not serve an expired cached CRL offline', async () => {
    handler = send(200, CRL);
    await client({ clock: at('2026-01-10T00:00:00Z') }).crl('Milan', 'VCEK');
    const e = await rejection(client({ clock: at('2026-03-01T00:00:00Z'), offline: true }).crl('Milan', 'VCEK'));
    expect(e.code).toBe('ERR_KDS_OFFLINE');
  });

  it('refuses a CRL that is not ARK-{product} shaped', async () => {
    handler = send(200, CRL);
    expect((await rejection(client().crl('Genoa', 'VCEK'))).code).toBe('ERR_KDS_FETCH');
    handler = send(200, VCEK);
    expect((await rejection(client().crl('Milan', 'VCEK'))).code).toBe('ERR_KDS_FETCH');
  });
});
