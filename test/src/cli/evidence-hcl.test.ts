import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../../../attestation/snp/certificate.js';
import { SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../../simulator/index.js';
import { SimulatedVtpm } from '../../../simulator/azure/index.js';
import { cli } from '../../helpers/cli.js';
import { HAS_SHARED, REPO_ROOT, SNP_VECTORS } from '../../helpers/shared.js';

const v = (p: string) => resolve(SNP_VECTORS, 'trustee/az-snp-vtpm', p);
const NOW = ['--now', '2026-01-01T00:00:00Z'];
const dir = mkdtempSync(join(tmpdir(), 'zt4ai-hcl-cli-'));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const codes = (out: Record<string, unknown>) => (out.errors as Array<{ code: string }>).map((e) => e.code);

const REAL = JSON.parse(readFileSync(resolve(REPO_ROOT, 'test/attestation/azure/fixtures/trustee-milan-v3-quote.json'), 'utf8')) as { message: string; signature: string; pcrs: string[] };
const REAL_NONCE = '982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef';

describe('zt4ai evidence verify: HCL flags', () => {
  it('--help documents --quote, --pcrs and --nonce', async () => {
    const r = await cli(['evidence', 'verify', '--help']);
    for (const flag of ['--quote', '--pcrs', '--nonce', 'HCL']) expect(r.stdout).toContain(flag);
  });

  it('quote flags on a plain SNP report, or without their partners, are usage errors (exit 2)', async () => {
    const snp = file('plain.bin', Buffer.alloc(1184));
    const hcl = file('x.hcl', Buffer.concat([Buffer.from('HCLA'), Buffer.alloc(2596)]));
    const q = file('q.json', JSON.stringify({ message: 'ff', signature: 'ff' }));
    const cases = [
      ['--report', snp, '--nonce', '00'],
      ['--report', hcl, '--quote', q],
      ['--report', hcl, '--nonce', '00'],
      ['--report', hcl, '--quote', q, '--nonce', 'xyz'],
      ['--report', hcl, '--quote', q, '--nonce', '00'],
      ['--report', hcl, '--quote', file('bad.json', 'not json'), '--nonce', '00', '--pcrs', q],
      ['--report', hcl, '--quote', q, '--nonce', '00', '--pcrs', file('p.json', '{"0":"zz"}')],
      ['--report', hcl, '--quote', file('nohex.json', '{"message":1,"signature":"00"}'), '--nonce', '00', '--pcrs', q],
    ];
    for (const args of cases) {
      const r = await cli(['evidence', 'verify', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('ERR_USAGE');
    }
  });

  it('a malformed HCL report is a rejection (exit 1) with its code', async () => {
    const r = await cli(['evidence', 'verify', '--report', file('short.hcl', Buffer.concat([Buffer.from('HCLA'), Buffer.alloc(100)])), '--offline', '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, format: 'azure-hcl', runtimeClaimsBound: false, 'x-ms-runtime': null });
    expect(codes(r.json())).toEqual(['ERR_HCL_TRUNCATED']);
  });
});

describe.skipIf(!HAS_SHARED)('zt4ai evidence verify on real Azure HCL reports', () => {
  it('recognises the HCL header: exit 0, text names the HCL report and the binding', async () => {
    const r = await cli(['evidence', 'verify', '--report', v('genoa-report-v3.hcl-report.bin'), '--certs', v('genoa-report-v3.vcek.pem'), ...NOW]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^GENUINE/);
    expect(r.stdout).toContain('Azure HCL report v2 (SEV-SNP), runtime claims bound by REPORT_DATA');
    expect(r.stdout).toContain('product Genoa, signed by VCEK');
    expect(r.stdout).toContain('WARN_HCL_NOT_FRESH');
  });

  it('--json adds x-ms-runtime and runtimeClaimsBound; claims are MAA-shaped', async () => {
    for (const [name, cert] of [['milan-report-v3', 'milan-report-v3.vcek.der'], ['milan-report-v2', 'milan-report-v2.vcek-chain.pem']]) {
      const r = await cli(['evidence', 'verify', '--report', v(`${name}.hcl-report.bin`), '--certs', v(cert!), ...NOW, '--json']);
      expect(r.code).toBe(0);
      const out = r.json();
      expect(out).toMatchObject({ ok: true, format: 'azure-hcl', product: 'Milan', signer: 'VCEK', simulated: false, runtimeClaimsBound: true, tpmQuote: null, errors: [] });
      const runtime = out['x-ms-runtime'] as { keys: Array<{ kid: string }> };
      expect(runtime.keys.map((k) => k.kid)).toEqual(['HCLAkPub', 'HCLEkPub']);
      const claims = out.claims as Record<string, Record<string, unknown>>;
      expect(claims['x-ms-attestation-type']).toBe('azurevm');
      expect(claims['x-ms-isolation-tee']!['x-ms-runtime']).toEqual(runtime);
    }
  });

  it("trustee's real quote verifies with --quote/--nonce (PCRs from the quote file or --pcrs)", async () => {
    const withPcrs = file('real-quote.json', JSON.stringify(REAL));
    const bare = file('real-quote-bare.json', JSON.stringify({ message: REAL.message, signature: REAL.signature }));
    const pcrs = file('real-pcrs.json', JSON.stringify(Object.fromEntries(REAL.pcrs.map((p, i) => [String(i), p]))));
    const base = ['evidence', 'verify', '--report', v('milan-report-v3.hcl-report.bin'), '--certs', v('milan-report-v3.vcek.der'), ...NOW];
    for (const extra of [['--quote', withPcrs], ['--quote', bare, '--pcrs', pcrs]]) {
      const r = await cli([...base, ...extra, '--nonce', REAL_NONCE, '--json']);
      expect(r.code).toBe(0);
      expect(r.json().tpmQuote).toMatchObject({ verified: true, nonce: REAL_NONCE });
    }
    const text = await cli([...base, '--quote', withPcrs, '--nonce', REAL_NONCE]);
    expect(text.stdout).toContain('TPM quote verified: nonce matches, PCRs 0,1,2');
    const stale = await cli([...base, '--quote', withPcrs, '--nonce', '00112233', '--json']);
    expect(stale.code).toBe(1);
    expect(codes(stale.json())).toEqual(['ERR_TPM_QUOTE_NONCE']);
  });

  it('edited runtime claims: exit 1, runtimeClaimsBound false, the claims still shown', async () => {
    const hcl = readFileSync(v('genoa-report-v3.hcl-report.bin'));
    hcl.write('390CBCF6', hcl.indexOf('390CBCF5'));
    const r = await cli(['evidence', 'verify', '--report', file('edited.hcl', hcl), '--certs', v('genoa-report-v3.vcek.pem'), ...NOW, '--json']);
    expect(r.code).toBe(1);
    const out = r.json();
    expect(out).toMatchObject({ ok: false, runtimeClaimsBound: false, claims: null });
    expect(codes(out)).toEqual(['ERR_HCL_CLAIMS_NOT_BOUND']);
    expect((out['x-ms-runtime'] as Record<string, Record<string, unknown>>)['vm-configuration']!.vmUniqueId).toBe('390CBCF6-6C67-4D9B-98EF-C3F1699CC8FC');
  });
});

describe('zt4ai evidence verify on simulated Azure evidence', () => {
  let paths: { hcl: string; vcek: string; roots: string; quote: string; pcrs: string };
  beforeAll(async () => {
    const roots = await createSimulatedRoots({ seed: 'azure cli' });
    const fw = new SimulatedFirmware({ root: roots.Genoa });
    const vtpm = await SimulatedVtpm.create({ firmware: fw });
    const q = vtpm.quote(Buffer.from('cafe', 'hex'), [0, 1, 7]);
    paths = {
      hcl: file('sim.hcl', vtpm.hclReport()),
      vcek: file('sim-vcek.pem', toPem(fw.endorsement.der)),
      roots: file('sim-roots.pem', simulatedRootsPem(roots)),
      quote: file('sim-quote.json', JSON.stringify(q)),
      pcrs: file('sim-pcrs.json', JSON.stringify(q.pcrsJson())),
    };
  });

  it('verifies with --sim-roots (marked simulated) and is refused without them', async () => {
    const args = ['evidence', 'verify', '--report', paths.hcl, '--certs', paths.vcek, '--quote', paths.quote, '--pcrs', paths.pcrs, '--nonce', 'cafe', '--json'];
    const ok = await cli([...args, '--sim-roots', paths.roots]);
    expect(ok.code).toBe(0);
    expect(ok.json()).toMatchObject({ ok: true, simulated: true, runtimeClaimsBound: true, tpmQuote: { verified: true } });
    const refused = await cli(args);
    expect(refused.code).toBe(1);
    expect(codes(refused.json())).toEqual(['ERR_CERT_CHAIN']);
  });

  it('a changed PCR value is ERR_TPM_PCR_DIGEST (exit 1)', async () => {
    const pcrs = JSON.parse(readFileSync(paths.pcrs, 'utf8')) as Record<string, string>;
    pcrs['7'] = '11'.repeat(32);
    const r = await cli(['evidence', 'verify', '--report', paths.hcl, '--certs', paths.vcek, '--sim-roots', paths.roots, '--quote', paths.quote, '--pcrs', file('sim-pcrs-bad.json', JSON.stringify(pcrs)), '--nonce', 'cafe', '--json']);
    expect(r.code).toBe(1);
    expect(codes(r.json())).toEqual(['ERR_TPM_PCR_DIGEST']);
  });
});
