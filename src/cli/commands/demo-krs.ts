import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { evaluateReleasePolicy, parseReleasePolicy } from '../../../attestation/policy/index.js';
import { toPem } from '../../../attestation/snp/certificate.js';
import { type SimulatedRoots, SimulatedFirmware, simulatedRootsPem } from '../../../simulator/index.js';
import { resolveKrsConfig } from '../../krs/config.js';
import { type KrsServer, startKrsServer } from '../../krs/server.js';
import type { RunnerLauncher } from '../io.js';
import { type DemoServing, runRunnerDemo } from './demo-runner.js';

/** The serving runner while the demo stays up: how to reach and check it, and every step so far. */
export interface DemoHold extends DemoServing {
  /** The simulator's roots (PEM), for `zt4ai runner verify --sim-roots`. */
  readonly simRootsFile: string;
}

export interface KrsDemoStep {
  readonly step: string;
  readonly expected: 'accepted' | 'rejected';
  readonly outcome: 'accepted' | 'rejected';
  readonly codes: string[];
  /** What the step produced, when there is something to show (an answer, a key id, the failing step). */
  readonly detail?: string;
}

const b64u = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

/**
 * The attestation half of the story over real HTTP on loopback: challenge, attest, token checked with nothing
 * but the published JWKS, then a release policy decides over the token's claims. With a runner (the composed
 * CLI), the same KRS then holds the model key that enclave runners obtain (demo-runner.ts).
 */
export async function runKrsDemo(roots: SimulatedRoots, say: (line: string) => void, runner?: RunnerLauncher, hold?: (serving: DemoHold) => Promise<void>): Promise<KrsDemoStep[]> {
  const dir = await mkdtemp(join(tmpdir(), 'zt4ai-demo-'));
  const steps: KrsDemoStep[] = [];
  const record = (step: string, expected: KrsDemoStep['expected'], outcome: KrsDemoStep['outcome'], codes: string[]): void => {
    steps.push({ step, expected, outcome, codes });
    say(`   ${outcome === expected ? 'as expected' : 'UNEXPECTED'}: ${outcome.toUpperCase()}${codes.length ? ` (${codes.join(', ')})` : ''}`);
  };
  // The administrator token lets the model owner create the model key through the key API.
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(dir, 'admin.token');
  await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
  const config = resolveKrsConfig({ listen: '127.0.0.1:0', dataDir: join(dir, 'krs'), trustSimulator: true, logLevel: 'silent', signingKeyBits: 2048, adminAuth: { tokenFile } }, dir);
  const krs = await startKrsServer(config, { simulatedRootsPem: [simulatedRootsPem(roots)] });
  try {
    say(`\n7. A key-release service (KRS) starts on ${krs.url}, trusting the simulated root explicitly.`);
    say('   The guest asks it for a challenge, binds challenge + TEE key into REPORT_DATA and attests (MAA wire format):');
    const good = await attest(krs, roots, {});
    record('attest genuine simulated evidence with a fresh challenge', 'accepted', good.token ? 'accepted' : 'rejected', good.codes);
    if (good.token) {
      const claims = await verifyWithJwks(krs, good.token);
      say(`   the token verifies with the published JWKS alone: iss ${String(claims.iss)}, x-zt4ai-fresh ${String(claims['x-zt4ai-fresh'])}, simulated ${String(claims['x-zt4ai-simulated'])}`);
      say('8. A release policy (simulated, fresh, not debuggable) decides over the token:');
      const allowed = decide(krs, claims);
      record('release policy over the genuine token', 'accepted', allowed.allowed ? 'accepted' : 'rejected', allowed.codes);
    }
    say('9. A guest launched with debugging allowed gets a token, but the policy refuses to release:');
    const debug = await attest(krs, roots, { debug: true });
    const debugDecision = debug.token ? decide(krs, await verifyWithJwks(krs, debug.token)) : { allowed: false, codes: debug.codes };
    record('release policy over a debuggable guest', 'rejected', debugDecision.allowed ? 'accepted' : 'rejected', debugDecision.codes);
    say('10. Evidence whose REPORT_DATA does not commit to the runtime data it claims (a swapped TEE key):');
    const unbound = await attest(krs, roots, { swapKey: true });
    record('runtime data not bound to the report', 'rejected', unbound.token ? 'accepted' : 'rejected', unbound.codes);
    say('11. The same challenge used twice (a replay):');
    const replay = await attest(krs, roots, { reuseNonceOf: good.nonce });
    record('replayed challenge', 'rejected', replay.token ? 'accepted' : 'rejected', replay.codes);
    const simRootsFile = join(dir, 'sim-roots.pem');
    await writeFile(simRootsFile, simulatedRootsPem(roots));
    const holdHere = hold ? (s: DemoServing) => hold({ ...s, simRootsFile, steps: [...steps, ...s.steps] }) : undefined;
    if (runner) steps.push(...(await runRunnerDemo({ krs, dir, tokenFile, token, roots, runner, say, ...(holdHere ? { hold: holdHere } : {}) })));
    else say('\n(The enclave runner steps need the composed CLI: run bin/zt4ai.js, as npm start does.)');
  } finally {
    await krs.close();
    await rm(dir, { recursive: true, force: true });
  }
  return steps;
}

interface AttestOutcome {
  readonly token: string | null;
  readonly codes: string[];
  readonly nonce: string;
}

async function attest(krs: KrsServer, roots: SimulatedRoots, o: { debug?: boolean; swapKey?: boolean; reuseNonceOf?: string }): Promise<AttestOutcome> {
  const nonce = o.reuseNonceOf ?? ((await (await fetch(`${krs.url}/attest/challenge`, { method: 'POST' })).json()) as { nonce: string }).nonce;
  const teeKey = (): unknown => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  const runtime = Buffer.from(JSON.stringify({ keys: [{ ...(teeKey() as object), kid: 'tee-key', key_ops: ['encrypt'] }], nonce }));
  const bound = o.swapKey ? Buffer.from(JSON.stringify({ keys: [teeKey()], nonce })) : runtime;
  const fw = new SimulatedFirmware({ root: roots.Genoa, ...(o.debug ? { guest: { policy: 0xb0000n } } : {}) });
  const x = fw.getExtendedReport(Buffer.concat([createHash('sha256').update(bound).digest(), Buffer.alloc(32)]));
  const chain = toPem(x.endorsement) + toPem(x.intermediate) + toPem(x.ark);
  const body = { report: b64u(JSON.stringify({ SnpReport: b64u(x.report), VcekCertChain: b64u(chain) })), runtimeData: { data: b64u(runtime), dataType: 'JSON' } };
  const res = await fetch(`${krs.url}/attest/SevSnpVm?api-version=2022-08-01`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { token?: string; error?: { code: string } };
  return { token: res.ok && json.token ? json.token : null, codes: json.error ? [json.error.code] : [], nonce };
}

async function verifyWithJwks(krs: KrsServer, token: string): Promise<Record<string, unknown>> {
  const jwks = await (await fetch(`${krs.url}/certs`)).json();
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), { issuer: krs.issuer });
  return payload as Record<string, unknown>;
}

function decide(krs: KrsServer, claims: Record<string, unknown>): { allowed: boolean; codes: string[] } {
  const policy = parseReleasePolicy({
    version: '1.0.0',
    anyOf: [
      {
        authority: krs.issuer,
        allOf: [
          { claim: 'x-ms-attestation-type', equals: 'sevsnpvm' },
          { claim: 'x-zt4ai-simulated', equals: true },
          { claim: 'x-zt4ai-fresh', equals: true },
          { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false },
        ],
      },
    ],
  });
  const d = evaluateReleasePolicy(policy, claims, { issuer: String(claims.iss) });
  return { allowed: d.allowed, codes: d.failures.map((f) => `${f.claim} ${f.operator} ${JSON.stringify(f.expected)}`) };
}

