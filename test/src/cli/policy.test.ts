import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as px509 from '@peculiar/x509';
import { Command } from 'commander';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseReleasePolicy } from '../../../attestation/policy/index.js';
import { registerPolicyCommands } from '../../../src/cli/commands/policy.js';
import { type CliIo, type CommandResult, EXIT, UsageError, isCommanderError } from '../../../src/cli/io.js';
import { buildProgram } from '../../../src/cli/program.js';
import { type CliRun, cli } from '../../helpers/cli.js';
import { HAS_SHARED, REPO_ROOT, SHARED_DIR, SNP_VECTORS } from '../../helpers/shared.js';

const quietIo: CliIo = { stdout: () => {}, stderr: () => {}, isTTY: false, env: {}, cwd: REPO_ROOT };
/** True once src/cli/program.ts registers the policy commands; until then the tests mount them on their own. */
const WIRED = buildProgram(quietIo, { exitCode: EXIT.ok }).commands.some((c) => c.name() === 'policy');

/** Runs `zt4ai <args>` in-process: through the real program when wired, else the same harness as runCli. */
async function run(args: string[]): Promise<CliRun> {
  if (WIRED) return cli(args);
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    ...quietIo,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: { ...process.env },
    cwd: process.cwd(),
  };
  const result: CommandResult = { exitCode: EXIT.ok };
  const program = new Command('zt4ai').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerPolicyCommands(program, io, result);
  let code: number;
  try {
    await program.parseAsync(['node', 'zt4ai', ...args]);
    code = result.exitCode;
  } catch (e) {
    if (isCommanderError(e)) code = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    else if (e instanceof UsageError) {
      stderr += `zt4ai: ${e.message} [${e.code}]\n`;
      code = EXIT.usage;
    } else throw e;
  }
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> };
}

const scratch = () => mkdtempSync(join(tmpdir(), 'zt4ai-policy-'));
const v = (p: string) => resolve(SNP_VECTORS, p);
const POLICIES = resolve(REPO_ROOT, 'deploy/policies');
const TURIN_MEASUREMENT = 'f924dd18f168df60fbea937f0b086284d51b1b376de872bac43694f61134d57967c318018de7335503023dbb50dee624';
const AUTH = 'https://krs.example.internal';

function writePolicy(conditions: unknown[], authority = AUTH): string {
  const file = join(scratch(), 'policy.json');
  writeFileSync(file, JSON.stringify({ version: '1.0.0', anyOf: [{ authority, allOf: conditions }] }));
  return file;
}

describe('zt4ai policy: usage', () => {
  it('check --help and new --help document every option', async () => {
    const check = await run(['policy', 'check', '--help']);
    expect(check.code).toBe(0);
    for (const flag of ['--policy', '--evidence', '--certs', '--now', '--sim-roots', '--token', '--jwks', '--issuer', '--json']) expect(check.stdout).toContain(flag);
    const made = await run(['policy', 'new', '--help']);
    for (const flag of ['--measurement', '--authority', '--min-snp-svn', '--min-microcode-svn', '--min-bootloader-svn', '--min-tee-svn', '--host-data', '--allow-simulated', '--no-require-fresh', '--out', '--force', '--json']) {
      expect(made.stdout).toContain(flag);
    }
  });

  it.skipIf(!WIRED)('zt4ai --help lists the policy command', async () => {
    expect((await cli(['--help'])).stdout).toMatch(/policy\s+release policies/);
  });

  it('wrong flag combinations are usage errors (exit 2)', async () => {
    const policy = resolve(POLICIES, 'simulator-dev.json');
    const cases = [
      ['policy', 'check', '--policy', policy],
      ['policy', 'check', '--policy', policy, '--evidence', 'r.bin', '--token', 't.jwt'],
      ['policy', 'check', '--policy', policy, '--evidence', 'r.bin'],
      ['policy', 'check', '--policy', policy, '--evidence', 'r.bin', '--certs', 'c.pem', '--jwks', 'k.json'],
      ['policy', 'check', '--policy', policy, '--token', 't.jwt', '--certs', 'c.pem'],
      ['policy', 'check', '--policy', policy, '--token', 't.jwt', '--issuer', 'not a url'],
      ['policy', 'check', '--evidence', 'r.bin', '--certs', 'c.pem'],
    ];
    for (const args of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
    }
    const noCerts = await run(['policy', 'check', '--policy', policy, '--evidence', 'r.bin']);
    expect(noCerts.stderr).toContain('never fetches certificates from AMD KDS');
  });

  it('an unreadable policy or evidence file is an I/O error (exit 2) naming it', async () => {
    const r = await run(['policy', 'check', '--policy', '/nonexistent/p.json', '--token', 't.jwt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent/p.json');
    expect(r.stderr).toContain('ERR_IO');
    const e = await run(['policy', 'check', '--policy', resolve(POLICIES, 'simulator-dev.json'), '--evidence', '/nonexistent/r.bin', '--certs', 'c.pem']);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('/nonexistent/r.bin');
  });

  it('a policy with mistakes: exit 2 and every mistake printed with its path and code', async () => {
    const dir = scratch();
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ version: '1.0.0', anyOf: [{ authority: AUTH, allOf: [{ claim: 'a', equal: 1 }, { claim: 'b', greater: 'x' }, { anyOf: [{ anyOf: [] }] }] }] }));
    const r = await run(['policy', 'check', '--policy', file, '--token', 'whatever.jwt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`policy ${file} has 3 mistakes`);
    expect(r.stderr).toContain('/anyOf/0/allOf/0/equal: unknown operator "equal" (did you mean "equals"?)');
    expect(r.stderr).toContain('[ERR_POLICY_OPERATOR_UNKNOWN]');
    expect(r.stderr).toContain('/anyOf/0/allOf/1/greater: ');
    expect(r.stderr).toContain('[ERR_POLICY_VALUE_TYPE]');
    expect(r.stderr).toContain('/anyOf/0/allOf/2/anyOf/0: groups nest only one level deep');
    const json = await run(['policy', 'check', '--policy', file, '--token', 'whatever.jwt', '--json']);
    expect(json.code).toBe(2);
    expect((json.json().errors as Array<{ code: string; path: string }>).map((e) => e.code)).toEqual(['ERR_POLICY_OPERATOR_UNKNOWN', 'ERR_POLICY_VALUE_TYPE', 'ERR_POLICY_NESTING']);
  });
});

describe.skipIf(!HAS_SHARED)('zt4ai policy check --evidence over a real Turin report', () => {
  const turin = ['--evidence', v('oak/turin_oc_report.bin'), '--certs', v('oak/turin_oc_vcek.der'), '--now', '2026-01-01T00:00:00Z'];
  const good = () =>
    writePolicy([
      { claim: 'x-ms-sevsnpvm-is-debuggable', equals: 'false' },
      { claim: 'x-ms-sevsnpvm-vmpl', equals: '0' },
      { claim: 'x-ms-sevsnpvm-launchmeasurement', in: [TURIN_MEASUREMENT] },
      { claim: 'x-ms-sevsnpvm-snpfw-svn', greaterOrEquals: 2 },
      { claim: 'x-zt4ai-reported-tcb.microcode', greaterOrEquals: '71' },
      { claim: 'x-zt4ai-simulated', equals: false },
    ]);

  it('allowed: exit 0, each clause explained, authority not checked without --issuer', async () => {
    const r = await run(['policy', 'check', '--policy', good(), ...turin]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(genuine: Turin VCEK)');
    expect(r.stdout).toContain(`ALLOWED by authority ${AUTH}`);
    expect(r.stdout).toContain('authorities were not matched');
    expect(r.stdout).toContain('✓ x-ms-sevsnpvm-snpfw-svn greaterOrEquals 2: actual 2');
    expect(r.stdout).toContain('✓ x-zt4ai-reported-tcb.microcode greaterOrEquals "71": actual 71');
  });

  it('--json prints allowed, matchedAuthority, failures and results', async () => {
    const r = await run(['policy', 'check', '--policy', good(), ...turin, '--json']);
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ allowed: true, matchedAuthority: AUTH, failures: [], issuer: null, issuerChecked: false, signature: null });
    const results = out.results as Array<{ authority: string; issuer: string; passed: boolean; conditions: unknown[] }>;
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ path: '/anyOf/0', authority: AUTH, issuer: 'not-checked', passed: true });
    expect(results[0]!.conditions).toHaveLength(6);
  });

  it('denied: exit 1 and every failing clause with expected and actual', async () => {
    const policy = writePolicy([
      { claim: 'x-ms-sevsnpvm-snpfw-svn', greaterOrEquals: 3 },
      { claim: 'x-ms-sevsnpvm-vmpl', equals: 0 },
      { claim: 'x-ms-sevsnpvm-launchmeasurement', equals: '00' },
    ]);
    const r = await run(['policy', 'check', '--policy', policy, ...turin, '--json']);
    expect(r.code).toBe(1);
    const out = r.json();
    expect(out.allowed).toBe(false);
    expect(out.matchedAuthority).toBeNull();
    expect(out.failures).toEqual([
      { kind: 'claim', path: '/anyOf/0/allOf/0', claim: 'x-ms-sevsnpvm-snpfw-svn', operator: 'greaterOrEquals', expected: 3, present: true, actual: 2, passed: false, reason: '2 is not >= 3' },
      { kind: 'claim', path: '/anyOf/0/allOf/2', claim: 'x-ms-sevsnpvm-launchmeasurement', operator: 'equals', expected: '00', present: true, actual: TURIN_MEASUREMENT, passed: false, reason: 'values differ' },
    ]);
    const text = await run(['policy', 'check', '--policy', policy, ...turin]);
    expect(text.stdout).toContain('✗ x-ms-sevsnpvm-snpfw-svn greaterOrEquals 3: actual 2 (2 is not >= 3) [/anyOf/0/allOf/0]');
  });

  it('the shipped strict-production policy denies it (placeholder measurement, no freshness claim)', async () => {
    const r = await run(['policy', 'check', '--policy', resolve(POLICIES, 'strict-production.json'), ...turin]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ x-ms-sevsnpvm-launchmeasurement in');
    expect(r.stdout).toContain('✗ x-zt4ai-fresh equals true: claim absent');
    expect(r.stdout).toContain('x-zt4ai-fresh is set only by');
    expect(r.stdout).toContain('✓ x-ms-sevsnpvm-microcode-svn greaterOrEquals 71: actual 71');
  });

  it('--issuer matches authorities: another issuer is denied', async () => {
    const matched = await run(['policy', 'check', '--policy', good(), ...turin, '--issuer', `${AUTH}/`, '--json']);
    expect(matched.code).toBe(0);
    expect(matched.json()).toMatchObject({ issuer: `${AUTH}/`, issuerChecked: true });
    const other = await run(['policy', 'check', '--policy', good(), ...turin, '--issuer', 'https://other.example']);
    expect(other.code).toBe(1);
    expect(other.stdout).toContain('no authority in the policy matches the token issuer https://other.example');
  });

  it('evidence that is not genuine is refused (exit 1) with its errors, and the policy is not evaluated', async () => {
    const args = ['policy', 'check', '--policy', good(), '--evidence', v('oak/turin_oc_report.bin'), '--certs', v('ms-tee-attestation-verification/turin_vcek.pem'), '--now', '2026-01-01T00:00:00Z'];
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^REJECTED evidence .*: the policy was not evaluated/);
    expect(r.stdout).toContain('x ERR_SNP_SIGNATURE_INVALID');
    const json = await run([...args, '--json']);
    expect(json.json()).toMatchObject({ allowed: false, rejected: true, failures: [], results: [] });
    const garbage = await run(['policy', 'check', '--policy', good(), '--evidence', v('oak/turin_oc_report.bin'), '--certs', v('oak/turin_oc_report.bin'), '--json']);
    expect(garbage.code).toBe(1);
    expect((garbage.json().errors as Array<{ code: string }>)[0]!.code).toBe('ERR_CERT_PARSE');
  });
});

describe('zt4ai policy check --evidence over simulated evidence', () => {
  let dir = '';
  beforeAll(async () => {
    dir = scratch();
    const r = await cli(['sim', 'report', '--seed', 'policy-cli-test', '--out', dir]);
    expect(r.code).toBe(0);
  });

  it('the simulator-dev policy allows it under --sim-roots; strict-production refuses it as simulated', async () => {
    const evidence = ['--evidence', join(dir, 'report.bin'), '--certs', join(dir, 'vcek.pem'), join(dir, 'chain.pem'), '--sim-roots', join(dir, 'roots.pem')];
    const dev = await run(['policy', 'check', '--policy', resolve(POLICIES, 'simulator-dev.json'), ...evidence]);
    expect(dev.code).toBe(0);
    expect(dev.stdout).toContain('SIMULATED root');
    expect(dev.stdout).toContain('! WARN_SIMULATED');
    const strict = await run(['policy', 'check', '--policy', resolve(POLICIES, 'strict-production.json'), ...evidence, '--json']);
    expect(strict.code).toBe(1);
    expect((strict.json().failures as Array<{ claim: string }>).map((f) => f.claim)).toContain('x-zt4ai-simulated');
  });

  it('without --sim-roots the simulated evidence is not genuine', async () => {
    const r = await run(['policy', 'check', '--policy', resolve(POLICIES, 'simulator-dev.json'), '--evidence', join(dir, 'report.bin'), '--certs', join(dir, 'vcek.pem'), join(dir, 'chain.pem')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^REJECTED/);
  });
});

describe.skipIf(!HAS_SHARED)('zt4ai policy check --token over the MAA SevSnpVm token vector', () => {
  const token = resolve(SHARED_DIR, 'vectors/azure/maa-sevsnpvm/attest_response_token.jwt');
  const maaPolicy = () =>
    writePolicy(
      [
        { claim: 'x-ms-attestation-type', equals: 'sevsnpvm' },
        { claim: 'x-ms-compliance-status', equals: 'azure-compliant-cvm' },
        { claim: 'x-ms-sevsnpvm-is-debuggable', equals: 'false' },
        { claim: 'x-ms-sevsnpvm-vmpl', equals: '0' },
        { claim: 'x-ms-runtime.vm-configuration.secure-boot', equals: true },
        { claim: 'x-ms-runtime.keys', exists: true },
      ],
      'https://tenanttests.us/',
    );

  it("evaluates the token's claims with its iss as issuer, and says the signature was NOT verified", async () => {
    const r = await run(['policy', 'check', '--policy', maaPolicy(), '--token', token]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('issued by https://tenanttests.us');
    expect(r.stdout).toContain('WARNING: the token signature was NOT verified');
    expect(r.stdout).toContain('ALLOWED by authority https://tenanttests.us/ (token issuer https://tenanttests.us)');
    const json = await run(['policy', 'check', '--policy', maaPolicy(), '--token', token, '--json']);
    expect(json.json()).toMatchObject({ allowed: true, matchedAuthority: 'https://tenanttests.us/', issuer: 'https://tenanttests.us', issuerChecked: true, signature: 'not-verified' });
    expect((json.json().notes as string[]).join(' ')).toContain('NOT verified');
  });

  it('a policy for another authority denies it', async () => {
    const r = await run(['policy', 'check', '--policy', resolve(POLICIES, 'azure-cvm.json'), '--token', token, '--json']);
    expect(r.code).toBe(1);
    expect((r.json().results as Array<{ issuer: string }>)[0]!.issuer).toBe('mismatched');
  });

  it('--issuer that differs from the token iss is a rejection (exit 1)', async () => {
    const r = await run(['policy', 'check', '--policy', maaPolicy(), '--token', token, '--issuer', 'https://sharedeus.eus.attest.azure.net']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ERR_TOKEN_ISSUER');
  });

  it("--jwks with MAA's example /certs (x5c only, other kids) cannot verify it: exit 1", async () => {
    const r = await run(['policy', 'check', '--policy', maaPolicy(), '--token', token, '--jwks', resolve(SHARED_DIR, 'vectors/azure/maa-metadata/certs_example.json'), '--json']);
    expect(r.code).toBe(1);
    expect((r.json().errors as Array<{ code: string }>)[0]!.code).toBe('ERR_JWKS_NO_MATCHING_KEY');
  });
});

describe('zt4ai policy check --token --jwks with a signing key of our own', () => {
  const iss = 'https://maa.example';
  let dir = '';
  let jwks = '';
  let policy = '';
  let sign: (claims: Record<string, unknown>, exp?: number) => Promise<string> = async () => '';

  beforeAll(async () => {
    dir = scratch();
    px509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof px509.cryptoProvider.get>);
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const cert = await px509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: `CN=${iss}`, notBefore: new Date('2020-01-01'), notAfter: new Date('2040-01-01'), keys, signingAlgorithm: alg });
    // As Azure Attestation publishes it: kid, kty and x5c only, no n/e.
    jwks = join(dir, 'certs.json');
    writeFileSync(jwks, JSON.stringify({ keys: [{ kid: 'k1+/=', kty: 'RSA', x5c: [Buffer.from(cert.rawData).toString('base64')] }] }));
    sign = (claims, exp = 2_000_000_000) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1+/=', typ: 'JWT' }).setIssuer(iss).setIssuedAt(1_700_000_000).setExpirationTime(exp).sign(keys.privateKey);
    policy = writePolicy([{ claim: 'x-ms-sevsnpvm-vmpl', equals: '0' }], iss);
  });

  it('a token signed by the JWKS key is verified and evaluated (exit 0)', async () => {
    const token = join(dir, 'ok.jwt');
    writeFileSync(token, `${await sign({ 'x-ms-sevsnpvm-vmpl': 0 })}\n`);
    const r = await run(['policy', 'check', '--policy', policy, '--token', token, '--jwks', jwks]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('token signature verified with the given JWKS');
    expect(r.stdout).not.toContain('NOT verified');
    const json = await run(['policy', 'check', '--policy', policy, '--token', token, '--jwks', jwks, '--json']);
    expect(json.json()).toMatchObject({ allowed: true, signature: 'verified', notes: [] });
  });

  it('a verified token whose claims fail the policy is denied (exit 1)', async () => {
    const token = join(dir, 'vmpl2.jwt');
    writeFileSync(token, await sign({ 'x-ms-sevsnpvm-vmpl': 2 }));
    const r = await run(['policy', 'check', '--policy', policy, '--token', token, '--jwks', jwks, '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ allowed: false, signature: 'verified' });
  });

  it('a tampered, expired or malformed token is rejected (exit 1) with jose error codes', async () => {
    const [h, , s] = (await sign({ 'x-ms-sevsnpvm-vmpl': 2 })).split('.');
    const forged = Buffer.from(JSON.stringify({ iss, 'x-ms-sevsnpvm-vmpl': 0, exp: 2_000_000_000 })).toString('base64url');
    const cases: Array<[string, string, string[]]> = [
      ['forged.jwt', `${h}.${forged}.${s}`, []],
      ['expired.jwt', await sign({ 'x-ms-sevsnpvm-vmpl': 0 }, 1_700_000_100), ['--now', '2026-01-01T00:00:00Z']],
      ['garbage.jwt', 'not-a-token', []],
    ];
    const codes: string[] = [];
    for (const [name, text, extra] of cases) {
      writeFileSync(join(dir, name), text);
      const r = await run(['policy', 'check', '--policy', policy, '--token', join(dir, name), '--jwks', jwks, ...extra, '--json']);
      expect(r.code, name).toBe(1);
      codes.push((r.json().errors as Array<{ code: string }>)[0]!.code);
    }
    expect(codes).toEqual(['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'ERR_JWT_EXPIRED', 'ERR_JWT_INVALID']);
  });

  it('a token without iss cannot match an authority (exit 1); a bad JWKS file is a usage error (exit 2)', async () => {
    const noIss = join(dir, 'noiss.jwt');
    writeFileSync(noIss, `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"a":1}').toString('base64url')}.`);
    const r = await run(['policy', 'check', '--policy', policy, '--token', noIss]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('ERR_TOKEN_ISSUER');
    const badJwks = join(dir, 'bad.json');
    writeFileSync(badJwks, '{"keys": 3}');
    expect((await run(['policy', 'check', '--policy', policy, '--token', noIss, '--jwks', badJwks])).code).toBe(2);
  });
});

describe('zt4ai policy new', () => {
  const m1 = 'AB'.repeat(48);
  const m2 = `0x${'cd'.repeat(48)}`;

  it('prints a strict policy that parses, with every default clause', async () => {
    const r = await run(['policy', 'new', '--measurement', m1, m2, '--authority', 'https://krs.example.com', '--min-snp-svn', '20', '--min-microcode-svn', '210']);
    expect(r.code).toBe(0);
    const p = parseReleasePolicy(r.stdout);
    expect(p.anyOf[0]!.authority).toBe('https://krs.example.com');
    expect(JSON.parse(r.stdout).anyOf[0].allOf).toEqual([
      { claim: 'x-ms-attestation-type', equals: 'sevsnpvm' },
      { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false },
      { claim: 'x-ms-sevsnpvm-migration-allowed', equals: false },
      { claim: 'x-ms-sevsnpvm-vmpl', equals: 0 },
      { claim: 'x-ms-sevsnpvm-launchmeasurement', in: ['ab'.repeat(48), 'cd'.repeat(48)] },
      { claim: 'x-ms-sevsnpvm-snpfw-svn', greaterOrEquals: 20 },
      { claim: 'x-ms-sevsnpvm-microcode-svn', greaterOrEquals: 210 },
      { claim: 'x-zt4ai-simulated', equals: false },
      { claim: 'x-zt4ai-fresh', equals: true },
    ]);
    expect(r.stderr).toBe('');
  });

  it('relaxations need flags: --allow-simulated, --no-require-fresh; --host-data and the placeholder authority note', async () => {
    const r = await run(['policy', 'new', '--measurement', m1, '--allow-simulated', '--no-require-fresh', '--host-data', '11'.repeat(32), '--min-bootloader-svn', '3', '--min-tee-svn', '0']);
    expect(r.code).toBe(0);
    const claims = (JSON.parse(r.stdout).anyOf[0].allOf as Array<{ claim: string }>).map((c) => c.claim);
    expect(claims).not.toContain('x-zt4ai-simulated');
    expect(claims).not.toContain('x-zt4ai-fresh');
    expect(claims).toEqual(expect.arrayContaining(['x-ms-sevsnpvm-hostdata', 'x-ms-sevsnpvm-bootloader-svn', 'x-ms-sevsnpvm-tee-svn']));
    expect(r.stderr).toContain('authority is the placeholder https://krs.example.internal');
  });

  it('refuses bad hex, bad SVNs and bad authorities (exit 2)', async () => {
    const cases = [
      ['--measurement', 'ab'.repeat(47)],
      ['--measurement', 'zz'.repeat(48)],
      ['--measurement', m1, '--host-data', 'ab'.repeat(48)],
      ['--measurement', m1, '--min-snp-svn', '256'],
      ['--measurement', m1, '--min-tee-svn', '-1'],
      ['--measurement', m1, '--min-tee-svn', '1.5'],
      ['--measurement', m1, '--authority', 'krs.local'],
      [],
    ];
    for (const args of cases) {
      const r = await run(['policy', 'new', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
    }
    expect((await run(['policy', 'new', '--measurement', 'ab'])).stderr).toContain('must be 48 bytes of hex (96 hex digits)');
  });

  it('--out writes atomically, never overwrites without --force, and leaves no temporary files', async () => {
    const dir = scratch();
    const out = join(dir, 'release-policy.json');
    const first = await run(['policy', 'new', '--measurement', m1, '--authority', AUTH, '--out', out, '--json']);
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({ ok: true, out });
    const written = readFileSync(out, 'utf8');
    expect(parseReleasePolicy(written).anyOf[0]!.authority).toBe(AUTH);
    const again = await run(['policy', 'new', '--measurement', m2, '--authority', AUTH, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists; pass --force');
    expect(readFileSync(out, 'utf8')).toBe(written);
    const forced = await run(['policy', 'new', '--measurement', m2, '--authority', AUTH, '--out', out, '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`wrote release policy ${out}`);
    expect(readFileSync(out, 'utf8')).toContain('cd'.repeat(48));
    expect(readdirSync(dir)).toEqual(['release-policy.json']);
    const missingDir = await run(['policy', 'new', '--measurement', m1, '--authority', AUTH, '--out', join(dir, 'no/such/dir.json')]);
    expect(missingDir.code).toBe(2);
    expect(missingDir.stderr).toContain('ERR_IO');
  });

  it.skipIf(!HAS_SHARED)('a new policy for the Turin measurement allows that evidence once freshness is not required', async () => {
    const dir = scratch();
    const out = join(dir, 'p.json');
    expect((await run(['policy', 'new', '--measurement', TURIN_MEASUREMENT, '--authority', AUTH, '--min-snp-svn', '2', '--no-require-fresh', '--out', out])).code).toBe(0);
    const r = await run(['policy', 'check', '--policy', out, '--evidence', v('oak/turin_oc_report.bin'), '--certs', v('oak/turin_oc_vcek.der'), '--now', '2026-01-01T00:00:00Z']);
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});

describe('zt4ai policy validate', () => {
  it('accepts the shipped policies and notes what Key Vault would not enforce', async () => {
    const r = await run(['policy', 'validate', '--policy', resolve(POLICIES, 'strict-production.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^VALID: .*strict-production\.json: 1 authority, 11 claim conditions/);
    expect(r.stdout).toContain('in is a zt4ai extension');
    const json = await run(['policy', 'validate', '--policy', resolve(POLICIES, 'azure-cvm.json'), '--json']);
    expect(json.json()).toMatchObject({ ok: true, errors: [], azureCompatibility: [] });
  });

  it('refuses a policy with mistakes (exit 1) listing each', async () => {
    const file = writePolicy([{ claim: 'a', equal: 1 }]);
    const r = await run(['policy', 'validate', '--policy', file, '--json']);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, errors: [{ code: 'ERR_POLICY_OPERATOR_UNKNOWN', path: '/anyOf/0/allOf/0/equal' }] });
  });
});
