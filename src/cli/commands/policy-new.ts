import { resolve } from 'node:path';
import { type PolicyError, type ReleasePolicy, parseReleasePolicy, policyMistakes, releasePolicyDocument, serializeReleasePolicy } from '../../../attestation/policy/index.js';
import { type CliIo, EXIT, type ExitCode, UsageError, printJson } from '../io.js';
import { writeAtomically } from '../write-file.js';

export const PLACEHOLDER_AUTHORITY = 'https://krs.example.internal';

export interface NewFlags {
  measurement: string[];
  authority: string;
  minSnpSvn?: string;
  minMicrocodeSvn?: string;
  minBootloaderSvn?: string;
  minTeeSvn?: string;
  hostData?: string;
  allowSimulated?: boolean;
  requireFresh: boolean;
  out?: string;
  force?: boolean;
  json?: boolean;
}

/** Claim conditions in a policy, counting those inside groups. */
export function countConditions(p: ReleasePolicy): number {
  return p.anyOf.reduce((n, r) => n + r.conditions.reduce((m, c) => m + (c.kind === 'claim' ? 1 : c.conditions.length), 0), 0);
}

const MEASUREMENT_HEX = 96;
const HOST_DATA_HEX = 64;

export async function newCommand(flags: NewFlags, io: CliIo): Promise<ExitCode> {
  const policy = buildStrictPolicy(flags);
  const text = `${serializeReleasePolicy(policy, { indent: 2 })}\n`;
  if (flags.authority === PLACEHOLDER_AUTHORITY) io.stderr(`zt4ai: note: authority is the placeholder ${PLACEHOLDER_AUTHORITY}; pass --authority with your token issuer's URL\n`);
  if (!flags.out) {
    io.stdout(text);
    return EXIT.ok;
  }
  const out = resolve(io.cwd, flags.out);
  await writeAtomically(out, text, Boolean(flags.force));
  if (flags.json) printJson(io, { ok: true, out, policy: releasePolicyDocument(policy) });
  else io.stdout(`wrote release policy ${out} (${countConditions(policy)} conditions for authority ${flags.authority})\nnext: zt4ai policy check --policy ${flags.out} --evidence report.bin --certs vcek.pem\n`);
  return EXIT.ok;
}

/** Strict by default: each relaxation needs a flag, so an omitted flag never weakens the policy. */
function buildStrictPolicy(flags: NewFlags): ReleasePolicy {
  const measurements = [...new Set(flags.measurement.map((m) => hexFlag('--measurement', m, MEASUREMENT_HEX)))];
  const conditions: Record<string, unknown>[] = [
    { claim: 'x-ms-attestation-type', equals: 'sevsnpvm' },
    { claim: 'x-ms-sevsnpvm-is-debuggable', equals: false },
    { claim: 'x-ms-sevsnpvm-migration-allowed', equals: false },
    { claim: 'x-ms-sevsnpvm-vmpl', equals: 0 },
    { claim: 'x-ms-sevsnpvm-launchmeasurement', in: measurements },
  ];
  if (flags.hostData !== undefined) conditions.push({ claim: 'x-ms-sevsnpvm-hostdata', equals: hexFlag('--host-data', flags.hostData, HOST_DATA_HEX) });
  const minimums: Array<[string, string, string | undefined]> = [
    ['--min-snp-svn', 'x-ms-sevsnpvm-snpfw-svn', flags.minSnpSvn],
    ['--min-microcode-svn', 'x-ms-sevsnpvm-microcode-svn', flags.minMicrocodeSvn],
    ['--min-bootloader-svn', 'x-ms-sevsnpvm-bootloader-svn', flags.minBootloaderSvn],
    ['--min-tee-svn', 'x-ms-sevsnpvm-tee-svn', flags.minTeeSvn],
  ];
  for (const [flag, claim, value] of minimums) if (value !== undefined) conditions.push({ claim, greaterOrEquals: svnFlag(flag, value) });
  if (!flags.allowSimulated) conditions.push({ claim: 'x-zt4ai-simulated', equals: false });
  if (flags.requireFresh) conditions.push({ claim: 'x-zt4ai-fresh', equals: true });
  try {
    return parseReleasePolicy({ version: '1.0.0', anyOf: [{ authority: flags.authority, allOf: conditions }] });
  } catch (e) {
    const mistakes = policyMistakes(e as PolicyError).map((m) => m.message);
    throw new UsageError('ERR_USAGE', mistakes.join('; '), { cause: e });
  }
}

function hexFlag(flag: string, value: string, digits: number): string {
  const hex = value.replace(/^0x/i, '');
  if (!/^[0-9a-f]*$/i.test(hex) || hex.length !== digits) {
    throw new UsageError('ERR_USAGE', `${flag} "${value}" must be ${digits / 2} bytes of hex (${digits} hex digits)`);
  }
  return hex.toLowerCase();
}

function svnFlag(flag: string, value: string): number {
  const n = /^\d{1,3}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 0 && n <= 255)) throw new UsageError('ERR_USAGE', `${flag} "${value}" must be an integer 0..255 (an SVN is one byte)`);
  return n;
}
