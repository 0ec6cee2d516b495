import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FIXTURE_KEY_BITS, type SimEvidenceOptions, type SimEvidenceSummary, type SimProgress, parseSimEvidenceOptions, writeSimEvidence } from '../../../simulator/index.js';
import { type CliIo, type CommandResult, EXIT, UsageError, printJson } from '../io.js';

interface SimReportFlags {
  product?: string;
  version?: string;
  policy?: string;
  measurement?: string;
  reportData?: string;
  hostData?: string;
  signer?: string;
  tcb?: string;
  seed?: string;
  keyBits?: string;
  out: string;
  json?: boolean;
}

/** `zt4ai sim ...`: simulated SEV-SNP evidence. */
export function registerSimCommands(program: Command, io: CliIo, result: CommandResult): void {
  const sim = program.command('sim').description('simulated AMD roots and SNP firmware: make evidence for local runs and CI');
  sim
    .command('report')
    .description('write a SIMULATED signed SNP report with its VCEK/VLEK, chain and simulated roots')
    .requiredOption('--out <dir>', 'directory for report.bin, vcek.pem/vlek.pem, chain.pem, roots.pem, certs.bin, evidence.json')
    .option('--product <name>', 'milan, genoa or turin', 'genoa')
    .option('--version <n>', 'report VERSION 1..5 (default: what the product firmware emits)')
    .option('--policy <u64>', 'guest policy, e.g. 0x30000')
    .option('--measurement <hex>', 'launch measurement, 48 bytes')
    .option('--report-data <hex>', 'REPORT_DATA, up to 64 bytes (default: random, or seed-derived)')
    .option('--host-data <hex>', 'HOST_DATA, 32 bytes')
    .option('--signer <kind>', 'vcek or vlek', 'vcek')
    .option('--tcb <spec>', 'TCB over the product defaults: bl=..,tee=..,snp=..,ucode=..[,fmc=.. on Turin]')
    .option('--seed <string>', `deterministic output: committed RSA-${FIXTURE_KEY_BITS} fixture roots, fixed dates, seed-derived values`)
    .option('--key-bits <n>', 'RSA size of fresh simulated roots: 2048, 3072 or 4096 (default 4096)')
    .option('--json', 'print one JSON object describing what was written')
    .action(async (flags: SimReportFlags) => {
      const summary = await writeEvidence(io, flags);
      if (flags.json) printJson(io, { ok: true, ...summary });
      else io.stdout(describe(summary));
      result.exitCode = EXIT.ok;
    });
}

/** simulator/options.ts parses the flags; its RangeErrors become usage errors (exit 2). */
function toOptions(flags: SimReportFlags): SimEvidenceOptions {
  try {
    return parseSimEvidenceOptions(flags);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError('ERR_SIM_OPTION', e.message);
    throw e;
  }
}

async function writeEvidence(io: CliIo, flags: SimReportFlags): Promise<SimEvidenceSummary> {
  const options = toOptions(flags);
  const onProgress = io.isTTY ? (p: SimProgress) => io.stderr(`zt4ai sim: [${p.done}/${p.total}] ${p.message}\n`) : undefined;
  try {
    return await writeSimEvidence(resolve(io.cwd, flags.out), { ...options, ...(onProgress ? { onProgress } : {}) });
  } catch (e) {
    // Node's file-system errors carry `syscall`; anything else is a bug and should surface as one.
    if (typeof (e as NodeJS.ErrnoException).syscall === 'string') throw new UsageError('ERR_IO', `cannot write ${flags.out}: ${(e as Error).message}`, { cause: e });
    if (e instanceof RangeError) throw new UsageError('ERR_SIM_OPTION', e.message);
    throw e;
  }
}

function describe(s: SimEvidenceSummary): string {
  const f = s.files;
  return [
    `wrote SIMULATED ${s.product} v${s.version} evidence signed by a ${s.signer}${s.seeded ? ' (seeded)' : ''}:`,
    ...Object.values(f).map((p) => `  ${p}`),
    `measurement ${s.measurement}`,
    `report data ${s.reportData}`,
    `verify: zt4ai evidence verify --report ${f.report} --certs ${f.endorsement} ${f.chain} --sim-roots ${f.roots}`,
    '',
  ].join('\n');
}
