import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAttestation } from '../../enclave-runner/cli/attestation-checks.js';
import { getJson } from '../../enclave-runner/cli/fetch-bound.js';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';
import type { SnpRunnerAttestation } from '../../enclave-runner/serve/attestation.js';
import { spkiSha256 } from '../../enclave-runner/startup/runtime-data.js';
import { simulatedRootsPem } from '../../simulator/index.js';
import { cli } from '../helpers/cli.js';
import { type Stack, roots, startStack } from './stack.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

let stack: Stack;
let runner: RunningRunner;
let simRoots: string;
let certFile: string;
beforeAll(async () => {
  stack = await startStack();
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
});
afterAll(async () => {
  await runner?.stop();
  await stack?.close();
});

function policyFile(name: string, clauses: Array<Record<string, unknown>>): string {
  const file = join(stack.dir, name);
  writeFileSync(file, JSON.stringify({ version: '1.0.0', anyOf: [{ authority: stack.krs.issuer, allOf: clauses }] }));
  return file;
}

async function attestation(): Promise<SnpRunnerAttestation> {
  return (await getJson(new URL('/attestation', runner.url))).body as SnpRunnerAttestation;
}

describe('GET /attestation', () => {
  it('serves the report, its chain, the runtime data and the token, bound to the TLS key', async () => {
    const a = await attestation();
    expect(a.kind).toBe('sevsnp');
    expect(a.certificates).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(Buffer.from(a.report, 'base64url')).toHaveLength(1184);
    expect(a.token.split('.')).toHaveLength(3);
    const runtime = JSON.parse(Buffer.from(a.runtimeData, 'base64url').toString('utf8')) as Record<string, unknown>;
    expect(runtime).toMatchObject({ keys: [expect.objectContaining({ kty: 'RSA' })], 'x-zt4ai-config': runner.status().configSha256 });
    if (hasOpenssl) expect(runtime['x-zt4ai-endpoint']).toEqual({ 'tls-spki-sha256': spkiSha256(readFileSync(certFile)) });
    else expect(runtime['x-zt4ai-endpoint']).toEqual({ listen: runner.url });
  });
});

describe('zt4ai runner verify', () => {
  it.skipIf(!hasOpenssl)('passes every check over TLS with the simulated roots and a policy that allows', async () => {
    const allow = policyFile('allow.json', [
      { claim: 'x-zt4ai-simulated', equals: true },
      { claim: 'x-zt4ai-fresh', equals: true },
      { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false },
      { claim: 'x-ms-runtime.x-zt4ai-config', equals: runner.status().configSha256 },
    ]);
    const r = await cli(['runner', 'verify', runner.url, '--sim-roots', simRoots, '--policy', allow]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const c of ['evidence', 'report-data', 'token-binding', 'token-signature', 'policy', 'endpoint', 'status']) expect(r.stdout).toMatch(new RegExp(`✓ ${c}`));
    expect(r.stdout).toMatch(/the TLS key served is the attested one/);
    const json = await cli(['runner', 'verify', runner.url, '--sim-roots', simRoots, '--json']);
    expect(json.json()).toMatchObject({ ok: true, state: 'serving' });
  });

  it('fails without the simulated roots, and when the policy pins another measurement, listing each failed check', async () => {
    const r = await cli(['runner', 'verify', runner.url, '--json']);
    expect(r.code).toBe(1);
    const checks = (r.json() as { checks: Array<{ name: string; ok: boolean | null; detail: string }> }).checks;
    expect(checks.find((c) => c.name === 'evidence')).toMatchObject({ ok: false, detail: expect.stringContaining('ERR_CERT_ROOT_UNTRUSTED') });
    const deny = policyFile('deny.json', [{ claim: 'x-ms-sevsnpvm-launchmeasurement', in: ['00'.repeat(48)] }]);
    const p = await cli(['runner', 'verify', runner.url, '--sim-roots', simRoots, '--policy', deny]);
    expect(p.code).toBe(1);
    expect(p.stdout).toMatch(/✗ policy +x-ms-sevsnpvm-launchmeasurement in/);
    expect(p.stdout).toMatch(/NOT verified: policy failed/);
  });

  it('exits 2 on usage and I/O problems', async () => {
    expect((await cli(['runner', 'verify'])).code).toBe(2);
    expect((await cli(['runner', 'verify', 'ftp://x'])).code).toBe(2);
    expect((await cli(['runner', 'verify', runner.url, '--policy', join(stack.dir, 'none.json')])).code).toBe(2);
    const bad = join(stack.dir, 'bad-policy.json');
    writeFileSync(bad, '{"version": "1.0.0"}');
    const r = await cli(['runner', 'verify', runner.url, '--policy', bad]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/not a valid release policy/)]);
  });
});

describe('checkAttestation', () => {
  const run = async (a: SnpRunnerAttestation, peer: string | null): Promise<Record<string, boolean | null>> => {
    const checks = await checkAttestation({ attestation: a, url: new URL('https://runner.example'), peerSpkiSha256: peer, simRootsPem: readFileSync(simRoots, 'utf8'), policy: null, jwks: async () => null });
    return Object.fromEntries(checks.map((c) => [c.name, c.ok]));
  };

  it.skipIf(!hasOpenssl)('refuses another TLS key than the attested one', async () => {
    const a = await attestation();
    expect(await run(a, spkiSha256(readFileSync(certFile)))).toMatchObject({ evidence: true, 'report-data': true, 'token-binding': true, 'token-signature': null, endpoint: true });
    expect((await run(a, 'ab'.repeat(32))).endpoint).toBe(false);
    expect((await run(a, null)).endpoint).toBe(false);
  });

  it("reads an older runner's /attestation (no kind) as SEV-SNP", async () => {
    const { kind: _, ...older } = await attestation();
    expect(await run(older as SnpRunnerAttestation, null)).toMatchObject({ evidence: true, 'report-data': true, 'token-binding': true });
  });

  it('refuses runtime data the report does not commit to, and a token issued for another report', async () => {
    const a = await attestation();
    const runtime = JSON.parse(Buffer.from(a.runtimeData, 'base64url').toString('utf8')) as Record<string, unknown>;
    const swapped = Buffer.from(JSON.stringify({ ...runtime, 'x-zt4ai-endpoint': { 'tls-spki-sha256': 'ab'.repeat(32) } })).toString('base64url');
    expect((await run({ ...a, runtimeData: swapped }, 'ab'.repeat(32)))['report-data']).toBe(false);
    const [h, p, s] = a.token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const other = Buffer.from(JSON.stringify({ ...claims, 'x-ms-sevsnpvm-reportdata': '00'.repeat(64) })).toString('base64url');
    expect((await run({ ...a, token: `${h}.${other}.${s}` }, null))['token-binding']).toBe(false);
  });
});
