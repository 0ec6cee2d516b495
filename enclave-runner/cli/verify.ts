import { readFile } from 'node:fs/promises';
import type { JSONWebKeySet } from 'jose';
import { request } from 'undici';
import { PolicyErrors, type ReleasePolicy, formatPolicyError, isPolicyError, parseReleasePolicy } from '../../attestation/policy/index.js';
import type { RunnerAttestation } from '../serve/attestation.js';
import type { RunnerStatus } from '../serve/status.js';
import { type VerifyCheck, checkAttestation } from './attestation-checks.js';
import { getJson } from './fetch-bound.js';
import { type RunnerCliIo, RunnerUsageError, describeReason, printJson } from './io.js';

export interface VerifyFlags {
  readonly policyFile?: string;
  readonly simRootsFile?: string;
  readonly json: boolean;
}

/**
 * `zt4ai runner verify <url>`: a client's checks before it sends anything. Fetches `/attestation` and checks
 * the evidence and chain (AMD roots; the simulator's only with --sim-roots): for SEV-SNP the report, and
 * REPORT_DATA against the runtime data; for an Azure vTPM the HCL report, REPORT_DATA against its runtime
 * claims, the TPM quote by their AK, the PCR values, and the quote nonce against the challenge and the runtime
 * data. Then the token against the evidence and its issuer's JWKS, the optional release policy over the
 * verified claims, the TLS key binding (https), and `/status` (serving, every step ok). Exit 0 every check
 * passed, 1 any failed (each is listed), 2 usage or I/O (unreachable runner, unreadable files).
 */
export async function verifyCommand(io: RunnerCliIo, url: string, flags: VerifyFlags): Promise<0 | 1 | 2> {
  const base = parseUrl(url);
  const policy = flags.policyFile ? await readPolicy(flags.policyFile) : null;
  const simRootsPem = flags.simRootsFile ? await readText(flags.simRootsFile, '--sim-roots') : null;
  const st = await fetchDoc(new URL('/status', base));
  const att = await fetchDoc(new URL('/attestation', base));
  const checks: VerifyCheck[] = [];
  const attestation = att.status === 200 ? readAttestation(att.body) : null;
  if (attestation) {
    checks.push(...(await checkAttestation({ attestation, url: base, peerSpkiSha256: att.spkiSha256, simRootsPem, policy, jwks: fetchJwks })));
  } else {
    const kind = (att.body as { kind?: unknown } | null)?.kind;
    const what = att.status !== 200 ? `HTTP ${att.status} without evidence` : kind === undefined || kind === 'sevsnp' || kind === 'azure-vtpm' || kind === 'azure-guest' ? 'a malformed document' : `evidence of a kind this client does not know (${JSON.stringify(kind)})`;
    checks.push({ name: 'evidence', ok: false, detail: `GET /attestation answered ${what}` });
  }
  const status = st.status === 200 && Array.isArray((st.body as RunnerStatus | null)?.steps) ? (st.body as RunnerStatus) : null;
  const sameChannel = base.protocol !== 'https:' || (st.spkiSha256 !== null && st.spkiSha256 === att.spkiSha256);
  const serving = status !== null && status.state === 'serving' && status.steps.every((s) => s.ok === true);
  checks.push({ name: 'status', ok: serving && sameChannel, detail: !sameChannel ? '/status came over another TLS key' : status === null ? `GET /status answered HTTP ${st.status}` : serving ? 'serving; every start-up step ok' : `${status.state}: NOT serving` });
  const ok = checks.every((c) => c.ok !== false);
  if (flags.json) {
    printJson(io, { ok, url: base.href, checks, ...(status ?? {}) });
    return ok ? 0 : 1;
  }
  io.stdout(`runner ${base.href}${status ? `: ${status.state}${status.simulated ? ' (SIMULATED evidence)' : ''}; configuration ${status.configSha256}` : ''}\n`);
  for (const c of checks) io.stdout(`  ${mark(c.ok)} ${c.name.padEnd(16)}${c.detail}\n`);
  if (status) io.stdout('start-up steps (as the runner reports them):\n');
  for (const s of status?.steps ?? []) {
    const why = s.error ? `: ${s.error.message} [${s.error.code}]${describeReason(s.error.reason)}` : '';
    io.stdout(`  ${mark(s.ok)} ${s.name.padEnd(16)}${s.ms === null ? '' : `${s.ms} ms`}${why}\n`);
  }
  if (status?.model) io.stdout(`  model ${status.model.id}, root digest ${status.model.rootDigest}, signer ${status.model.signer}\n`);
  const failed = checks.filter((c) => c.ok === false).map((c) => c.name);
  io.stdout(ok ? 'every check passed: this is the attested runner, serving\n' : `NOT verified: ${failed.join(', ')} failed${serving ? '' : '; NOT serving'}\n`);
  return ok ? 0 : 1;
}

function mark(ok: boolean | null): string {
  return ok === true ? '✓' : ok === false ? '✗' : '·';
}

function parseUrl(url: string): URL {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new RunnerUsageError('ERR_USAGE', `"${url}" is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new RunnerUsageError('ERR_USAGE', `"${url}" is not an http(s) URL`);
  return base;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new RunnerUsageError('ERR_IO', `${what} ${file} cannot be read: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function readPolicy(file: string): Promise<ReleasePolicy> {
  const text = await readText(file, '--policy');
  try {
    return parseReleasePolicy(text);
  } catch (e) {
    const detail = e instanceof PolicyErrors ? e.errors.map(formatPolicyError).join('; ') : isPolicyError(e) ? formatPolicyError(e) : (e as Error).message;
    throw new RunnerUsageError('ERR_USAGE', `--policy ${file} is not a valid release policy: ${detail}`);
  }
}

async function fetchDoc(url: URL): Promise<Awaited<ReturnType<typeof getJson>>> {
  try {
    return await getJson(url);
  } catch (e) {
    throw new RunnerUsageError('ERR_IO', `cannot read ${url.href}: ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
}

/** `/attestation` in any shape (`kind` sevsnp, azure-vtpm or azure-guest; an older runner's, without kind, is SEV-SNP); null otherwise. */
function readAttestation(b: unknown): RunnerAttestation | null {
  if (typeof b !== 'object' || b === null) return null;
  const a = b as Record<string, unknown>;
  const str = (v: unknown): v is string => typeof v === 'string';
  if (a.kind === 'azure-guest') return str(a.attestationInfo) && str(a.runtimeData) && str(a.token) ? (a as unknown as RunnerAttestation) : null;
  if (!str(a.certificates) || !str(a.runtimeData) || !str(a.token)) return null;
  if (a.kind === 'azure-vtpm') {
    const q = a.quote as Record<string, unknown> | null;
    const pcrs = a.pcrs;
    const ok = str(a.hclReport) && str(a.challenge) && typeof q === 'object' && q !== null && str(q.message) && str(q.signature) && typeof pcrs === 'object' && pcrs !== null && !Array.isArray(pcrs);
    return ok ? (a as unknown as RunnerAttestation) : null;
  }
  return (a.kind === undefined || a.kind === 'sevsnp') && str(a.report) ? ({ ...a, kind: 'sevsnp' } as unknown as RunnerAttestation) : null;
}

/** The issuer's JWKS at `<iss>/certs`, over CA-checked TLS (or loopback http); null when unreachable. */
async function fetchJwks(issuer: string): Promise<JSONWebKeySet | null> {
  try {
    const res = await request(`${issuer.replace(/\/+$/, '')}/certs`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    const body = (await res.body.json()) as JSONWebKeySet;
    return res.statusCode === 200 && Array.isArray(body?.keys) ? body : null;
  } catch {
    return null;
  }
}
