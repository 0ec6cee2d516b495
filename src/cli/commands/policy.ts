import { X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import { type JSONWebKeySet, type JWK, createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { AttestationError } from '../../../attestation/errors.js';
import {
  type PolicyDecision,
  type PolicyError,
  type ReleasePolicy,
  authorityMatches,
  azureCompatibilityNotes,
  checkReleasePolicy,
  evaluateReleasePolicy,
  explainDecision,
  formatPolicyError,
  releasePolicyDocument,
} from '../../../attestation/policy/index.js';
import { type ParsedCertificate, loadCertificates } from '../../../attestation/snp/certificate.js';
import { verifySnpReport } from '../../../attestation/snp/verify.js';
import { buildTrust, parseNow, readInput } from '../inputs.js';
import { type CliIo, type CommandResult, EXIT, type ExitCode, UsageError, printJson } from '../io.js';
import { type NewFlags, PLACEHOLDER_AUTHORITY, countConditions, newCommand } from './policy-new.js';

interface CheckFlags {
  policy: string;
  evidence?: string;
  certs?: string[];
  now?: string;
  simRoots?: string;
  token?: string;
  jwks?: string;
  issuer?: string;
  json?: boolean;
}

/** A problem with the evidence or token itself (not with the policy): a negative verdict. */
interface Problem {
  readonly code: string;
  readonly message: string;
}

/** What the policy is evaluated over: verified evidence claims or token claims, or why there are none. */
type Subject =
  | { readonly ok: true; readonly source: string; readonly claims: object; readonly issuer: string | undefined; readonly signature: 'verified' | 'not-verified' | null; readonly notes: readonly string[] }
  | { readonly ok: false; readonly source: string; readonly errors: readonly Problem[] };

/** `zt4ai policy ...`: Key Vault release policies, evaluated locally. */
export function registerPolicyCommands(program: Command, io: CliIo, result: CommandResult): void {
  const policy = program.command('policy').description('release policies (Azure Key Vault Secure Key Release grammar): check claims against one, write a strict one');
  policy
    .command('check')
    .description('evaluate a release policy over verified SNP evidence or over an attestation token, explaining every clause')
    .requiredOption('--policy <file>', 'the release policy (JSON)')
    .option('--evidence <file>', 'an SNP attestation report (binary) to verify, then evaluate')
    .option('--certs <file...>', 'with --evidence: the VCEK/VLEK (required: nothing is fetched) and optional ASK/ARK')
    .option('--now <iso-time>', 'verification time for certificates (--evidence) or token exp/nbf (--token --jwks)')
    .option('--sim-roots <file>', "with --evidence: also trust the simulator's roots (claims are marked simulated)")
    .option('--token <file>', 'an attestation token (JWT, e.g. from Azure Attestation) whose claims are evaluated')
    .option('--jwks <file>', "with --token: the issuer's JWKS (JSON); without it the token signature is NOT verified")
    .option('--issuer <url>', 'with --evidence: the issuer to match authorities against; with --token: the issuer the token must have')
    .option('--json', 'print one JSON object: allowed, matchedAuthority, failures, results')
    .action(async (flags: CheckFlags) => {
      result.exitCode = await checkCommand(flags, io);
    });
  policy
    .command('new')
    .description('write a strict starting policy for your launch measurement(s)')
    .requiredOption('--measurement <hex...>', 'accepted launch measurement(s), 48 bytes (96 hex digits) each')
    .option('--authority <url>', 'the token issuer (your key-release service or attestation instance)', PLACEHOLDER_AUTHORITY)
    .option('--min-snp-svn <n>', 'minimum SNP firmware SVN (x-ms-sevsnpvm-snpfw-svn)')
    .option('--min-microcode-svn <n>', 'minimum microcode SVN (x-ms-sevsnpvm-microcode-svn)')
    .option('--min-bootloader-svn <n>', 'minimum bootloader SVN (x-ms-sevsnpvm-bootloader-svn)')
    .option('--min-tee-svn <n>', 'minimum TEE (PSP OS) SVN (x-ms-sevsnpvm-tee-svn)')
    .option('--host-data <hex>', 'required HOST_DATA, 32 bytes (64 hex digits)')
    .option('--allow-simulated', 'do not require x-zt4ai-simulated to be false (development only)')
    .option('--no-require-fresh', 'do not require x-zt4ai-fresh (the key-release nonce check)')
    .option('--out <file>', 'write the policy here (atomically) instead of printing it')
    .option('--force', 'with --out: replace an existing file')
    .option('--json', 'with --out: print one JSON object describing what was written')
    .action(async (flags: NewFlags) => {
      result.exitCode = await newCommand(flags, io);
    });
  policy
    .command('validate')
    .description('check a release policy for mistakes (every one, with its JSON pointer) and Key Vault compatibility')
    .requiredOption('--policy <file>', 'the release policy (JSON)')
    .option('--json', 'print one JSON object: ok, errors, azureCompatibility')
    .action(async (flags: { policy: string; json?: boolean }) => {
      result.exitCode = await validateCommand(flags, io);
    });
}

// ---------------------------------------------------------------------------------------------- check

async function checkCommand(flags: CheckFlags, io: CliIo): Promise<ExitCode> {
  checkFlagCombination(flags);
  const loaded = await loadPolicy(io, flags.policy);
  if (!loaded.ok) {
    printPolicyMistakes(io, flags, loaded.errors);
    return EXIT.usage;
  }
  const subject = flags.evidence ? await evidenceSubject(io, flags, flags.evidence) : await tokenSubject(io, flags, flags.token ?? '');
  if (!subject.ok) {
    printRejected(io, flags, subject);
    return EXIT.negative;
  }
  const decision = evaluateReleasePolicy(loaded.policy, subject.claims, { issuer: subject.issuer });
  printDecision(io, flags, subject, decision);
  return decision.allowed ? EXIT.ok : EXIT.negative;
}

function checkFlagCombination(flags: CheckFlags): void {
  if (Boolean(flags.evidence) === Boolean(flags.token)) throw new UsageError('ERR_USAGE', 'give exactly one of --evidence <report> and --token <jwt-file>');
  if (flags.evidence && flags.jwks) throw new UsageError('ERR_USAGE', '--jwks applies to --token only');
  if (flags.token && (flags.certs || flags.simRoots)) throw new UsageError('ERR_USAGE', '--certs and --sim-roots apply to --evidence only');
  if (flags.evidence && !flags.certs?.length) {
    throw new UsageError('ERR_USAGE', '--evidence needs --certs with the VCEK or VLEK: policy check never fetches certificates from AMD KDS (use "zt4ai evidence verify" to fetch one)');
  }
  if (flags.issuer !== undefined) checkIssuerFlag(flags.issuer);
}

function checkIssuerFlag(issuer: string): void {
  try {
    const url = new URL(issuer);
    if (url.protocol === 'https:' || url.protocol === 'http:') return;
  } catch {
    // reported below
  }
  throw new UsageError('ERR_USAGE', `--issuer "${issuer}" is not an http(s) URL`);
}

async function evidenceSubject(io: CliIo, flags: CheckFlags, file: string): Promise<Subject> {
  const source = `evidence ${file}`;
  const now = parseNow(flags.now);
  const report = await readInput(io, file, 'evidence report');
  const trust = await buildTrust(io, flags.simRoots);
  const certificates: ParsedCertificate[] = [];
  for (const certFile of flags.certs ?? []) {
    const bytes = await readInput(io, certFile, 'certificate');
    try {
      certificates.push(...loadCertificates(bytes));
    } catch (e) {
      if (!(e instanceof AttestationError)) throw e;
      return { ok: false, source, errors: [{ code: e.code, message: `${certFile}: ${e.message}` }] };
    }
  }
  const verdict = verifySnpReport(report, { certificates, trust, now });
  if (!verdict.ok || !verdict.claims) return { ok: false, source, errors: verdict.errors.map((e) => ({ code: e.code, message: e.message })) };
  const notes = verdict.warnings.map((w) => `${w.code}: ${w.message}`);
  const what = `${source} (genuine: ${verdict.product} ${verdict.signer}${verdict.simulated ? ', SIMULATED root' : ''})`;
  return { ok: true, source: what, claims: verdict.claims, issuer: flags.issuer, signature: null, notes };
}

async function tokenSubject(io: CliIo, flags: CheckFlags, file: string): Promise<Subject> {
  const source = `token ${file}`;
  const jwt = (await readInput(io, file, 'token')).toString('utf8').trim();
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(jwt);
  } catch (e) {
    return { ok: false, source, errors: [joseProblem(e, 'ERR_TOKEN_MALFORMED')] };
  }
  let signature: 'verified' | 'not-verified' = 'not-verified';
  if (flags.jwks) {
    const keys = await loadJwks(io, flags.jwks);
    try {
      await jwtVerify(jwt, createLocalJWKSet(keys), { currentDate: parseNow(flags.now) });
      signature = 'verified';
    } catch (e) {
      return { ok: false, source, errors: [joseProblem(e, 'ERR_TOKEN_SIGNATURE')] };
    }
  }
  const issuerProblem = tokenIssuerProblem(claims.iss, flags.issuer);
  if (issuerProblem) return { ok: false, source, errors: [issuerProblem] };
  const notes = signature === 'verified' ? [] : ['the token signature was NOT verified (pass --jwks <file> to verify it): anyone could have written these claims'];
  return { ok: true, source: `${source} issued by ${String(claims.iss)}`, claims, issuer: claims.iss as string, signature, notes };
}

function tokenIssuerProblem(iss: unknown, expected: string | undefined): Problem | null {
  if (typeof iss !== 'string' || iss === '') return { code: 'ERR_TOKEN_ISSUER', message: 'the token has no iss claim, so no authority can match it' };
  if (expected !== undefined && !authorityMatches(expected, iss)) return { code: 'ERR_TOKEN_ISSUER', message: `the token was issued by ${iss}, not by the expected ${expected}` };
  return null;
}

/** jose errors carry stable codes (ERR_JWT_EXPIRED, ERR_JWS_SIGNATURE_VERIFICATION_FAILED, ...); keep them. */
function joseProblem(e: unknown, fallback: string): Problem {
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : fallback;
  return { code, message: e instanceof Error ? e.message : String(e) };
}

/**
 * Reads a JWKS file. Azure Attestation's /certs entries may carry only kid, kty and x5c (no n/e), so the public
 * key is taken from x5c[0] (standard base64 DER) when the key material is missing.
 */
async function loadJwks(io: CliIo, file: string): Promise<JSONWebKeySet> {
  const text = (await readInput(io, file, 'JWKS')).toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new UsageError('ERR_USAGE', `--jwks ${file} is not JSON`, { cause });
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'object' || k === null)) {
    throw new UsageError('ERR_USAGE', `--jwks ${file} is not a JWKS ({"keys": [...]})`);
  }
  return { keys: keys.map((k: JWK) => withKeyMaterial(k, file)) };
}

function withKeyMaterial(key: JWK, file: string): JWK {
  const hasMaterial = key.kty === 'RSA' ? Boolean(key.n && key.e) : key.kty === 'EC' ? Boolean(key.x && key.y) : true;
  const first = key.x5c?.[0];
  if (hasMaterial || typeof first !== 'string') return key;
  try {
    const spki = new X509Certificate(Buffer.from(first, 'base64')).publicKey.export({ format: 'jwk' });
    return { ...key, ...spki } as JWK;
  } catch (cause) {
    throw new UsageError('ERR_USAGE', `--jwks ${file}: key ${key.kid ?? '(no kid)'} has an unreadable x5c[0] certificate`, { cause });
  }
}

// ---------------------------------------------------------------------------------------------- output

function printDecision(io: CliIo, flags: CheckFlags, subject: Extract<Subject, { ok: true }>, d: PolicyDecision): void {
  if (flags.json) {
    const { allowed, matchedAuthority, failures, results, issuer, issuerChecked } = d;
    printJson(io, { allowed, matchedAuthority, failures, results, issuer, issuerChecked, source: subject.source, signature: subject.signature, notes: subject.notes });
    return;
  }
  const lines = [`policy ${flags.policy} over ${subject.source}`];
  if (subject.signature === 'not-verified') lines.push('WARNING: the token signature was NOT verified (pass --jwks <file> to verify it)');
  if (subject.signature === 'verified') lines.push('token signature verified with the given JWKS');
  lines.push(explainDecision(d).trimEnd());
  if (d.failures.some((f) => f.claim === 'x-zt4ai-fresh' && !f.present)) {
    lines.push("note: x-zt4ai-fresh is set only by zt4ai's key-release service after it checks a nonce; local evidence never carries it");
  }
  for (const n of subject.notes) if (!n.startsWith('the token signature')) lines.push(`! ${n}`);
  io.stdout(`${lines.join('\n')}\n`);
}

function printRejected(io: CliIo, flags: CheckFlags, subject: Extract<Subject, { ok: false }>): void {
  if (flags.json) {
    printJson(io, { allowed: false, matchedAuthority: null, failures: [], results: [], rejected: true, source: subject.source, errors: subject.errors });
    return;
  }
  const lines = [`REJECTED ${subject.source}: the policy was not evaluated`, ...subject.errors.map((e) => `  x ${e.code}: ${e.message}`)];
  io.stdout(`${lines.join('\n')}\n`);
}

function printPolicyMistakes(io: CliIo, flags: { json?: boolean; policy: string }, errors: readonly PolicyError[]): void {
  if (flags.json) {
    printJson(io, { allowed: false, policy: flags.policy, errors: errors.map((e) => e.toJSON()) });
    return;
  }
  const head = `zt4ai: policy ${flags.policy} has ${errors.length} mistake${errors.length === 1 ? '' : 's'}:`;
  io.stderr(`${[head, ...errors.map((e) => `  ${formatPolicyError(e)}`)].join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------- validate

async function validateCommand(flags: { policy: string; json?: boolean }, io: CliIo): Promise<ExitCode> {
  const loaded = await loadPolicy(io, flags.policy);
  if (!loaded.ok) {
    if (flags.json) printJson(io, { ok: false, errors: loaded.errors.map((e) => e.toJSON()), azureCompatibility: [] });
    else printPolicyMistakes(io, flags, loaded.errors);
    return EXIT.negative;
  }
  const notes = azureCompatibilityNotes(loaded.policy);
  if (flags.json) {
    printJson(io, { ok: true, errors: [], azureCompatibility: notes, policy: releasePolicyDocument(loaded.policy) });
    return EXIT.ok;
  }
  const p = loaded.policy;
  const legacy = p.sourceVersion === '1.0' ? ' (version "1.0" form, read as "1.0.0")' : '';
  const lines = [`VALID: ${flags.policy}${legacy}: ${p.anyOf.length} authorit${p.anyOf.length === 1 ? 'y' : 'ies'}, ${countConditions(p)} claim conditions`];
  if (notes.length > 0) lines.push('Azure Key Vault compatibility:', ...notes.map((n) => `  ! ${n.path}: ${n.message}`));
  io.stdout(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

// ---------------------------------------------------------------------------------------------- inputs

async function loadPolicy(io: CliIo, file: string): Promise<{ ok: true; policy: ReleasePolicy } | { ok: false; errors: readonly PolicyError[] }> {
  return checkReleasePolicy(await readInput(io, file, 'policy'));
}

