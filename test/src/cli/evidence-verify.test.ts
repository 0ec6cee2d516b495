import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';
import { HAS_SHARED, SNP_VECTORS } from '../../helpers/shared.js';

const v = (p: string) => resolve(SNP_VECTORS, p);
const cacheDir = () => mkdtempSync(join(tmpdir(), 'zt4ai-kds-cache-'));

describe('zt4ai --help', () => {
  it('lists the commands with one-line descriptions', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/evidence\s+verify SEV-SNP attestation evidence/);
    expect(r.stdout).toMatch(/sim\s+/);
  });
  it('evidence verify --help documents every option', async () => {
    const r = await cli(['evidence', 'verify', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--report', '--certs', '--now', '--offline', '--json', '--product', '--crl', '--check-revocation', '--sim-roots']) expect(r.stdout).toContain(flag);
  });
  it('an unknown command or a missing option is a usage error (exit 2)', async () => {
    expect((await cli(['nonsense'])).code).toBe(2);
    expect((await cli(['evidence', 'verify'])).code).toBe(2);
    expect((await cli(['evidence', 'verify', '--report', 'x', '--now', 'yesterday'])).code).toBe(2);
    expect((await cli(['evidence', 'verify', '--report', 'x', '--product', 'Venice'])).code).toBe(2);
  });
  it('an unreadable report file is an I/O error (exit 2) with a message naming it', async () => {
    const r = await cli(['evidence', 'verify', '--report', '/nonexistent/report.bin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent/report.bin');
    expect(r.stderr).toContain('ERR_IO');
  });
});

describe.skipIf(!HAS_SHARED)('zt4ai evidence verify on real vectors', () => {
  const turin = ['--report', v('oak/turin_oc_report.bin'), '--certs', v('oak/turin_oc_vcek.der'), '--now', '2026-01-01T00:00:00Z'];

  it('genuine evidence: exit 0, readable verdict', async () => {
    const r = await cli(['evidence', 'verify', ...turin]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^GENUINE/);
    expect(r.stdout).toContain('product Turin, signed by VCEK');
  });

  it('--json prints one object with ok, product, signer, claims, warnings, errors', async () => {
    const r = await cli(['evidence', 'verify', ...turin, '--json']);
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ ok: true, product: 'Turin', signer: 'VCEK', simulated: false, errors: [], warnings: [] });
    expect((out.claims as Record<string, unknown>)['x-ms-sevsnpvm-launchmeasurement']).toBe(
      'f924dd18f168df60fbea937f0b086284d51b1b376de872bac43694f61134d57967c318018de7335503023dbb50dee624',
    );
  });

  it('a THIM JSON certificate file and a PEM chain are accepted', async () => {
    const r = await cli(['evidence', 'verify', '--report', v('confidential-sidecar-containers/snp_report.bin'), '--certs', v('confidential-sidecar-containers/uvm_host_amd_certificate.json'), '--now', '2026-01-01T00:00:00Z', '--json']);
    expect(r.json()).toMatchObject({ ok: true, product: 'Milan' });
    const chain = await cli(['evidence', 'verify', '--report', v('trustee/az-snp-vtpm/milan-report-v2.snp-report.bin'), '--certs', v('trustee/az-snp-vtpm/milan-report-v2.vcek-chain.pem'), '--now', '2026-01-01T00:00:00Z']);
    expect(chain.code).toBe(0);
  });

  it('rejected evidence: exit 1 and every failed check listed', async () => {
    const r = await cli(['evidence', 'verify', '--report', v('oak/turin_oc_report.bin'), '--certs', v('ms-tee-attestation-verification/turin_vcek.pem'), '--now', '2026-01-01T00:00:00Z', '--json']);
    expect(r.code).toBe(1);
    const codes = (r.json().errors as Array<{ code: string }>).map((e) => e.code);
    expect(codes).toEqual(expect.arrayContaining(['ERR_SNP_SIGNATURE_INVALID', 'ERR_SNP_CHIP_ID_MISMATCH']));
    const text = await cli(['evidence', 'verify', '--report', v('oak/turin_oc_report.bin'), '--certs', v('ms-tee-attestation-verification/turin_vcek.pem'), '--now', '2026-01-01T00:00:00Z']);
    expect(text.stdout).toMatch(/^REJECTED/);
    expect(text.stdout).toContain('x ERR_SNP_SIGNATURE_INVALID');
  });

  it('a malformed certificate file is a rejection with ERR_CERT_PARSE (exit 1)', async () => {
    const r = await cli(['evidence', 'verify', '--report', v('oak/turin_oc_report.bin'), '--certs', v('oak/turin_oc_report.bin'), '--json']);
    expect(r.code).toBe(1);
    expect((r.json().errors as Array<{ code: string }>)[0]!.code).toBe('ERR_CERT_PARSE');
  });

  it('--offline without a certificate fails with ERR_KDS_OFFLINE (exit 2) and touches no network', async () => {
    const r = await cli(['evidence', 'verify', '--report', v('oak/turin_oc_report.bin'), '--offline', '--cache-dir', cacheDir(), '--json']);
    expect(r.code).toBe(2);
    const err = (r.json().errors as Array<{ code: string; message: string }>)[0]!;
    expect(err.code).toBe('ERR_KDS_OFFLINE');
    expect(err.message).toContain('/vcek/v1/Turin/3b42092f69c656d3?fmcSPL=0&blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71');
  });

  it('a VLEK-signed report without its VLEK says the VLEK must come with the evidence', async () => {
    const r = await cli(['evidence', 'verify', '--report', v('trustee/snp/test-vlek-report.bin'), '--offline', '--cache-dir', cacheDir(), '--json']);
    expect(r.code).toBe(1);
    expect((r.json().errors as Array<{ code: string }>)[0]!.code).toBe('ERR_CERT_MISSING');
  });
});

describe.skipIf(!HAS_SHARED)('zt4ai evidence verify fetches a missing VCEK from KDS', () => {
  it('fetches from a local fake KDS, caches, then verifies offline from the cache', async () => {
    const { createServer } = await import('node:http');
    const { readFileSync } = await import('node:fs');
    const vcek = readFileSync(v('oak/turin_oc_vcek.der'));
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/vcek/v1/Turin/3b42092f69c656d3?fmcSPL=0&blSPL=1&teeSPL=0&snpSPL=2&ucodeSPL=71') res.end(vcek);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as { port: number };
    const cache = cacheDir();
    try {
      const args = ['evidence', 'verify', '--report', v('oak/turin_oc_report.bin'), '--now', '2026-01-01T00:00:00Z', '--cache-dir', cache, '--kds-url', `http://127.0.0.1:${port}`, '--json'];
      const first = await cli(args);
      expect(first.json()).toMatchObject({ ok: true, product: 'Turin' });
      expect(seen).toHaveLength(1);
      const offline = await cli([...args, '--offline']);
      expect(offline.code).toBe(0);
      expect(seen).toHaveLength(1);
    } finally {
      server.close();
    }
  });
});
