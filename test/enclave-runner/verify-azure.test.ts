import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson } from '../../enclave-runner/cli/fetch-bound.js';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';
import type { AzureVtpmRunnerAttestation } from '../../enclave-runner/serve/attestation.js';
import { spkiSha256 } from '../../enclave-runner/startup/runtime-data.js';
import { SWTPM_INSTALL_HINT, missingSwtpmTools } from '../../simulator/azure/index.js';
import { simulatedRootsPem } from '../../simulator/index.js';
import { cli } from '../helpers/cli.js';
import { type AzureStack, startAzureStack } from './azure/stack.js';
import { roots } from './stack.js';

/**
 * `GET /attestation` and `zt4ai runner verify` for a runner on a (simulated) Azure confidential VM: swtpm
 * provisioned like Azure's vTPM, the runner's evidence `azure-vtpm`, the KRS's POST /attest/AzureCvm. The
 * client re-checks the HCL report, the quote, the PCRs and the runtime-data binding itself; evidence altered
 * between the runner and the client (a proxy rewriting /attestation) fails the check it concerns.
 */
const missing = missingSwtpmTools();
const skipped = missing.length > 0 ? ` (SKIPPED: ${missing.join(', ')} not on PATH; ${SWTPM_INSTALL_HINT})` : '';
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

type Check = { name: string; ok: boolean | null; detail: string };

let stack: AzureStack;
let runner: RunningRunner;
let simRoots: string;
let certFile: string;
beforeAll(async () => {
  if (missing.length > 0) return;
  stack = await startAzureStack();
  simRoots = join(stack.dir, 'sim-roots.pem');
  writeFileSync(simRoots, simulatedRootsPem(await roots()));
  certFile = join(stack.dir, 'runner-cert.pem');
  const keyFile = join(stack.dir, 'runner-key.pem');
  if (hasOpenssl) {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', keyFile, '-out', certFile]);
    if (r.status !== 0) throw new Error(String(r.stderr));
  }
  runner = await launchRunner(await stack.config(hasOpenssl ? { tls: { certFile, keyFile } } : {}));
  await runner.ready;
}, 120_000);
afterAll(async () => {
  await runner?.stop();
  await stack?.close();
});

async function attestation(): Promise<AzureVtpmRunnerAttestation> {
  return (await getJson(new URL('/attestation', runner.url))).body as AzureVtpmRunnerAttestation;
}

/** The stack's confidential-VM release policy (Microsoft's clauses under x-ms-isolation-tee, and zt4ai's), as a file. */
function cvmPolicyFile(name: string, extra: Array<Record<string, unknown>> = []): string {
  const file = join(stack.dir, name);
  writeFileSync(file, JSON.stringify({ version: '1.0.0', anyOf: [{ authority: stack.krs.issuer, allOf: [...stack.clauses, ...extra] }] }));
  return file;
}

/** A plain-http proxy in front of the runner that rewrites the JSON of GET /attestation (and passes /status through). */
async function tamperingProxy(rewrite: (a: AzureVtpmRunnerAttestation) => AzureVtpmRunnerAttestation): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    getJson(new URL(req.url ?? '/', runner.url)).then(
      (a) => {
        const body = req.url === '/attestation' && a.status === 200 ? rewrite(a.body as AzureVtpmRunnerAttestation) : a.body;
        res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      },
      () => res.writeHead(502).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** `runner verify --json` through a tampering proxy: exit code and each check's verdict by name. */
async function verifyTampered(rewrite: (a: AzureVtpmRunnerAttestation) => AzureVtpmRunnerAttestation): Promise<{ code: number; checks: Record<string, Check> }> {
  const proxy = await tamperingProxy(rewrite);
  try {
    const r = await cli(['runner', 'verify', proxy.url, '--sim-roots', simRoots, '--json']);
    const checks = (r.json() as { checks: Check[] }).checks;
    return { code: r.code, checks: Object.fromEntries(checks.map((c) => [c.name, c])) };
  } finally {
    await proxy.close();
  }
}

const oks = (checks: Record<string, Check>, names: string[]): Array<boolean | null> => names.map((n) => checks[n]?.ok ?? null);

describe.skipIf(missing.length > 0)(`zt4ai runner verify, Azure vTPM runner (swtpm, tpm2-tools)${skipped}`, () => {
  it('GET /attestation serves the HCL report, chain, quote, PCRs, challenge, runtime data and token (kind azure-vtpm)', async () => {
    const a = await attestation();
    expect(a.kind).toBe('azure-vtpm');
    expect(a).not.toHaveProperty('report');
    expect(Buffer.from(a.hclReport, 'base64url').subarray(0, 4).toString('latin1')).toBe('HCLA');
    expect(a.certificates).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(Buffer.from(a.quote.message, 'base64url').readUInt32BE(0)).toBe(0xff544347);
    expect(Buffer.from(a.quote.signature, 'base64url').length).toBeGreaterThan(256);
    expect(Object.keys(a.pcrs)).toHaveLength(24);
    expect(a.challenge.length).toBeGreaterThan(0);
    expect(a.token.split('.')).toHaveLength(3);
    const runtime = JSON.parse(Buffer.from(a.runtimeData, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(runtime).toMatchObject({ keys: [expect.objectContaining({ kty: 'RSA' })], nonce: a.challenge, 'x-zt4ai-config': runner.status().configSha256 });
    if (hasOpenssl) expect(runtime['x-zt4ai-endpoint']).toEqual({ 'tls-spki-sha256': spkiSha256(readFileSync(certFile)) });
  });

  it('passes every check with the simulated roots and the confidential-VM release policy (exit 0)', async () => {
    const r = await cli(['runner', 'verify', runner.url, '--sim-roots', simRoots, '--policy', cvmPolicyFile('cvm.json')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const c of ['evidence', 'report-data', 'quote', 'pcrs', 'runtime-data', 'token-binding', 'token-signature', 'policy', 'status']) expect(r.stdout).toMatch(new RegExp(`✓ ${c} `));
    expect(r.stdout).toMatch(/HCL report \(version \d+\) with an SNP report at VMPL 0 .* under the SIMULATED root/);
    expect(r.stdout).toMatch(/REPORT_DATA = SHA256\(HCL runtime claims\) ‖ zeros/);
    expect(r.stdout).toMatch(/the quote's nonce is SHA-256\(challenge ‖ runtime data\)/);
    if (hasOpenssl) expect(r.stdout).toMatch(/✓ endpoint +the TLS key served is the attested one/);
    expect(r.stdout).toMatch(/every check passed/);
    const json = await cli(['runner', 'verify', runner.url, '--sim-roots', simRoots, '--json']);
    expect(json.code).toBe(0);
    expect(json.json()).toMatchObject({ ok: true, url: new URL(runner.url).href, state: 'serving', checks: expect.any(Array) });
  });

  it('fails without the simulated roots, and when the policy pins another measurement (exit 1)', async () => {
    const r = await cli(['runner', 'verify', runner.url, '--json']);
    expect(r.code).toBe(1);
    const checks = (r.json() as { checks: Check[] }).checks;
    expect(checks.find((c) => c.name === 'evidence')).toMatchObject({ ok: false, detail: expect.stringContaining('ERR_CERT_ROOT_UNTRUSTED') });
    // The top-level SNP claim of a plain SNP runner is not there: CVM claims are under x-ms-isolation-tee.
    const deny = cvmPolicyFile('deny.json', [{ claim: 'x-ms-isolation-tee.x-ms-sevsnpvm-launchmeasurement', in: ['00'.repeat(48)] }]);
    const p = await cli(['runner', 'verify', runner.url, '--sim-roots', simRoots, '--policy', deny]);
    expect(p.code).toBe(1);
    expect(p.stdout).toMatch(/✗ policy +x-ms-isolation-tee\.x-ms-sevsnpvm-launchmeasurement in/);
    expect(p.stdout).toMatch(/NOT verified: policy failed/);
  });

  it('a quote signature altered in the served /attestation fails the quote check', async () => {
    const { code, checks } = await verifyTampered((a) => {
      const signature = Buffer.from(a.quote.signature, 'base64url');
      signature[signature.length - 1]! ^= 0x01;
      return { ...a, quote: { ...a.quote, signature: signature.toString('base64url') } };
    });
    expect(code).toBe(1);
    expect(oks(checks, ['evidence', 'report-data', 'quote', 'pcrs', 'runtime-data'])).toEqual([true, true, false, true, true]);
    expect(checks.quote!.detail).toMatch(/ERR_TPM_QUOTE_SIGNATURE/);
  });

  it('a quote message altered in the served /attestation fails the quote check', async () => {
    const { code, checks } = await verifyTampered((a) => {
      const message = Buffer.from(a.quote.message, 'base64url');
      message[message.length - 1]! ^= 0x01;
      return { ...a, quote: { ...a.quote, message: message.toString('base64url') } };
    });
    expect(code).toBe(1);
    expect(checks.quote).toMatchObject({ ok: false, detail: expect.stringMatching(/ERR_TPM_QUOTE_SIGNATURE/) });
  });

  it('a PCR value altered in the served /attestation fails the pcrs check', async () => {
    const { code, checks } = await verifyTampered((a) => ({ ...a, pcrs: { ...a.pcrs, '7': createHash('sha256').update('another boot chain').digest('hex') } }));
    expect(code).toBe(1);
    expect(oks(checks, ['evidence', 'report-data', 'quote', 'pcrs', 'runtime-data', 'token-binding'])).toEqual([true, true, true, false, true, true]);
    expect(checks.pcrs!.detail).toMatch(/ERR_TPM_PCR_DIGEST/);
    // The proxy is plain http: nothing binds that channel, and the runner attested a TLS key.
    if (hasOpenssl) expect(checks.endpoint).toMatchObject({ ok: null, detail: expect.stringMatching(/attested a TLS key: verify its https URL/) });
  });

  it("runtime data swapped for an attacker's key in the served /attestation fails the runtime-data check", async () => {
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const { code, checks } = await verifyTampered((a) => {
      const runtime = JSON.parse(Buffer.from(a.runtimeData, 'base64url').toString('utf8')) as { keys: unknown[] };
      runtime.keys = [{ ...attacker, kid: 'attacker', key_ops: ['encrypt'] }];
      return { ...a, runtimeData: Buffer.from(JSON.stringify(runtime)).toString('base64url') };
    });
    expect(code).toBe(1);
    expect(oks(checks, ['evidence', 'report-data', 'quote', 'pcrs', 'runtime-data', 'token-binding'])).toEqual([true, true, true, true, false, false]);
    expect(checks['runtime-data']!.detail).toMatch(/quote's nonce is not SHA-256\(challenge ‖ runtime data\)/);
  });

  it('an HCL report whose runtime claims were altered fails the report-data check', async () => {
    const { code, checks } = await verifyTampered((a) => {
      const hcl = Buffer.from(a.hclReport, 'base64url');
      const at = hcl.indexOf('"vm-configuration"');
      expect(at).toBeGreaterThan(0);
      hcl.write('"vm-Configuration"', at, 'latin1');
      return { ...a, hclReport: hcl.toString('base64url') };
    });
    expect(code).toBe(1);
    expect(oks(checks, ['evidence', 'report-data'])).toEqual([true, false]);
    expect(checks['report-data']!.detail).toMatch(/REPORT_DATA is not SHA256\(HCL runtime claims\) ‖ zeros/);
  });
});
