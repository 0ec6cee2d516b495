import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { AttestationError } from '../../../attestation/errors.js';
import { KdsClient } from '../../../attestation/kds/client.js';
import { type ParsedCertificate, loadCertificates } from '../../../attestation/snp/certificate.js';
import { completeEndorsements } from '../../../attestation/snp/endorsements.js';
import { verifySnpReport } from '../../../attestation/snp/verify.js';
import { buildTrust, parseNow, parseProductFlag, readInput } from '../inputs.js';
import { type CliIo, type CommandResult, EXIT } from '../io.js';
import { printVerdict } from './evidence-output.js';

interface VerifyFlags {
  report: string;
  certs?: string[];
  now?: string;
  offline?: boolean;
  product?: string;
  crl?: string[];
  checkRevocation?: boolean;
  simRoots?: string;
  kdsUrl?: string;
  cacheDir?: string;
  allowMaskedChipId?: boolean;
  json?: boolean;
}

const KDS_IO_CODES = new Set(['ERR_KDS_OFFLINE', 'ERR_KDS_FETCH', 'ERR_KDS_RATE_LIMITED']);

export function registerEvidenceCommands(program: Command, io: CliIo, result: CommandResult): void {
  const evidence = program.command('evidence').description('verify SEV-SNP attestation evidence against the pinned AMD roots');
  evidence
    .command('verify')
    .description('verify an SNP attestation report: signature, AMD certificate chain, TCB and chip binding')
    .requiredOption('--report <file>', 'the 1184-byte attestation report (binary)')
    .option('--certs <file...>', 'VCEK/VLEK and optional ASK/ARK: PEM, DER, PEM bundle or Azure THIM JSON (repeatable)')
    .option('--now <iso-time>', 'verification time for certificate validity (default: now)')
    .option('--offline', 'never touch the network; fail with ERR_KDS_OFFLINE if a certificate would be fetched')
    .option('--product <name>', 'Milan, Genoa or Turin, for v1/v2 reports without CPUID when no certificate names it')
    .option('--crl <file...>', 'AMD CRL(s) in DER to check revocation against')
    .option('--check-revocation', "fetch the product's CRL from AMD KDS (or use --crl) and fail if it cannot be checked")
    .option('--sim-roots <file>', "trust the simulator's roots from this PEM bundle too (claims are marked simulated)")
    .option('--kds-url <url>', 'AMD KDS base URL', 'https://kdsintf.amd.com')
    .option('--cache-dir <dir>', 'where fetched certificates are cached (default: $XDG_CACHE_HOME/zt4ai/kds)')
    .option('--allow-masked-chip-id', 'accept a VCEK-signed report whose CHIP_ID is masked (skips the chip binding)')
    .option('--json', 'print one JSON object: ok, product, signer, claims, warnings, errors')
    .action(async (flags: VerifyFlags) => {
      result.exitCode = await verifyCommand(flags, io);
    });
}

async function verifyCommand(flags: VerifyFlags, io: CliIo): Promise<0 | 1 | 2> {
  const now = parseNow(flags.now);
  const product = flags.product ? parseProductFlag(flags.product) : undefined;
  const report = await readInput(io, flags.report, 'report');
  const trust = await buildTrust(io, flags.simRoots);
  const crls = await Promise.all((flags.crl ?? []).map((f) => readInput(io, f, 'CRL')));
  let certificates: ParsedCertificate[] = [];
  try {
    for (const file of flags.certs ?? []) certificates.push(...loadCertificates(await readInput(io, file, 'certificate')));
    const kds = new KdsClient({
      baseUrl: flags.kdsUrl ?? 'https://kdsintf.amd.com',
      cacheDir: flags.cacheDir ? resolve(io.cwd, flags.cacheDir) : defaultCacheDir(io.env),
      offline: Boolean(flags.offline),
      ...(io.isTTY ? { onProgress: (msg: string) => io.stderr(`zt4ai: ${msg}\n`) } : {}),
    });
    const done = await completeEndorsements(report, certificates, kds, {
      ...(product ? { product } : {}),
      checkRevocation: Boolean(flags.checkRevocation) && crls.length === 0,
    });
    certificates = done.certificates;
    crls.push(...done.crls);
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    printVerdict(io, flags, { ok: false, product: null, signer: null, simulated: false, claims: null, warnings: [], errors: [e], report: null });
    return KDS_IO_CODES.has(e.code) ? EXIT.usage : EXIT.negative;
  }
  const verdict = verifySnpReport(report, {
    certificates,
    trust,
    now,
    crls,
    requireRevocationCheck: Boolean(flags.checkRevocation),
    allowMaskedChipId: Boolean(flags.allowMaskedChipId),
    ...(product ? { product } : {}),
  });
  printVerdict(io, flags, verdict);
  return verdict.ok ? EXIT.ok : EXIT.negative;
}

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'zt4ai', 'kds');
}
