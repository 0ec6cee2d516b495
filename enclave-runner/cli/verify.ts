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
 * the SNP report and chain (AMD roots; the simulator's only with --sim-roots), REPORT_DATA against the runtime
 * data, the token against the report and its issuer's JWKS, the optional release policy over the verified
 * claims, the TLS key binding (https), and `/status` (serving, every step ok). Exit 0 every check passed,
 * 1 any failed (each is listed), 2 usage or I/O (unreachable runner, unreadable files).
 */
export async function verifyCommand(io: RunnerCliIo, url: string, flags: VerifyFlags): Promise<0 | 1 | 2> {
  const base = parseUrl(url);
  const policy = flags.policyFile ? await readPolicy(flags.policyFile) : null;
  const simRootsPem = flags.simRootsFile ? await readText(flags.simRootsFile, '--sim-roots') : null;
  const st = await fetchDoc(new URL('/status', base));
  const att = await fetchDoc(new URL('/attestation', base));
  const checks: VerifyCheck[] = [];
  if (att.status === 200 && isAttestation(att.body)) {
    checks.push(...(await checkAttestation({ attestation: att.body, url: base, peerSpkiSha256: att.spkiSha256, simRootsPem, policy, jwks: fetchJwks })));
  } else {
    checks.push({ name: 'evidence', ok: false, detail: `GET /attestation answered HTTP ${att.status} without evidence` });
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

function isAttestation(b: unknown): b is RunnerAttestation {
  const a = b as Partial<RunnerAttestation> | null;
  return typeof a === 'object' && a !== null && typeof a.report === 'string' && typeof a.certificates === 'string' && typeof a.runtimeData === 'string' && typeof a.token === 'string';
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
