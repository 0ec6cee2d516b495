import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describeClassification, describePii, describeScan } from './cli-format.js';
import { GuardianError } from './errors.js';
import { detectKind, evalPii, evalPromptInjection, parseJsonl } from './eval/run-eval.js';
import { InputGuardian } from './input/input-guardian.js';
import { redact } from './output/detect.js';

/**
 * `zt4ai guard ...`. The io and result types are declared structurally (src/ and enclave-runner/ never
 * import each other); src/cli's CliIo and CommandResult fit them. Usage and I/O errors are reported here
 * as `zt4ai: message [code]` with exit code 2, because src/cli's UsageError is not visible from here.
 */
export interface GuardCliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly cwd: string;
  /** Reads standard input for `-`; defaults to process.stdin. */
  readonly readStdin?: () => Promise<string>;
}

export interface GuardCliResult {
  exitCode: 0 | 1 | 2;
}

/** A usage or I/O problem of the guard commands: exit 2. */
class GuardUsageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface ScanFlags {
  json?: boolean;
  threshold?: string;
  document?: boolean;
}

interface JsonFlag {
  json?: boolean;
}

interface EvalFlags extends JsonFlag {
  iou?: string;
}

/** Registers `guard scan`, `guard redact` and `guard eval` on `program`. */
export function registerGuardCommands(program: Command, io: GuardCliIo, result: GuardCliResult): void {
  const guard = program.command('guard').description('I/O guardians: prompt-injection scan, PII/secret redaction, evaluation');
  guard
    .command('scan')
    .description('scan a prompt (or - for stdin): exit 0 allow or flag, 1 block, 2 usage')
    .argument('<text>', 'the prompt, or - to read it from standard input')
    .option('--threshold <n>', 'block at or above this calibrated score (0..1); default: tuned on dev')
    .option('--document', 'scan as a retrieved document / tool output instead of a user message')
    .option('--json', 'print one JSON object: verdict, score, rules, layers')
    .action((text: string, flags: ScanFlags) => run(io, result, async () => scan(io, await input(io, text), flags)));
  guard
    .command('redact')
    .description('redact PII and secrets from a model answer (or - for stdin); exit 0')
    .argument('<text>', 'the text, or - to read it from standard input')
    .option('--json', 'print one JSON object: text and the redactions (types and positions, never values)')
    .action((text: string, flags: JsonFlag) => run(io, result, async () => redactCommand(io, await input(io, text), flags)));
  guard
    .command('eval')
    .description('evaluate on a JSONL file: prompt-injection rows (text, label[, subset]) or PII rows (text, spans)')
    .argument('<file>', 'the .jsonl file')
    .option('--iou <n>', 'PII data: minimum character IoU for a match (default 0.7)')
    .option('--json', 'print the report as one JSON object')
    .action((file: string, flags: EvalFlags) => run(io, result, async () => evalCommand(io, file, flags)));
}

async function run(io: GuardCliIo, result: GuardCliResult, body: () => Promise<0 | 1>): Promise<void> {
  try {
    result.exitCode = await body();
  } catch (e) {
    if (e instanceof GuardUsageError || e instanceof GuardianError) {
      io.stderr(`zt4ai: ${e.message} [${e.code}]\n`);
      result.exitCode = 2;
      return;
    }
    throw e;
  }
}

async function input(io: GuardCliIo, text: string): Promise<string> {
  if (text !== '-') return text;
  try {
    return await (io.readStdin ?? readProcessStdin)();
  } catch (e) {
    throw new GuardUsageError('ERR_IO', `cannot read standard input: ${(e as Error).message}`);
  }
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function unitNumber(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new GuardUsageError('ERR_USAGE', `${flag} must be a number between 0 and 1`);
  return n;
}

async function scan(io: GuardCliIo, text: string, flags: ScanFlags): Promise<0 | 1> {
  const block = flags.threshold === undefined ? undefined : unitNumber('--threshold', flags.threshold);
  const base = new InputGuardian();
  const kind = flags.document ? 'document' : 'user';
  const guardian = block === undefined ? base : new InputGuardian({ policy: { [kind]: { block, flag: Math.min(base.policy[kind].flag, block) } } });
  const r = guardian.scan(text, kind);
  if (flags.json) io.stdout(`${JSON.stringify(r, null, 2)}\n`);
  else io.stdout(describeScan(r));
  // A flag is shown but not refused: exit 0, like allow; only a block is a negative verdict.
  return r.verdict === 'block' ? 1 : 0;
}

async function redactCommand(io: GuardCliIo, text: string, flags: JsonFlag): Promise<0> {
  const r = redact(text);
  if (flags.json) io.stdout(`${JSON.stringify({ text: r.text, redactions: r.spans.map((s) => ({ type: s.type, start: s.start, end: s.end, detector: s.detector })) }, null, 2)}\n`);
  else io.stdout(r.text.endsWith('\n') ? r.text : `${r.text}\n`);
  return 0;
}

async function evalCommand(io: GuardCliIo, file: string, flags: EvalFlags): Promise<0> {
  let content: string;
  try {
    content = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (e) {
    throw new GuardUsageError('ERR_IO', `cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const rows = parseJsonl(content);
  const kind = detectKind(rows);
  const progress = io.isTTY ? (done: number, total: number) => io.stderr(`\rzt4ai guard eval: ${done}/${total}`) : undefined;
  const iou = flags.iou === undefined ? undefined : unitNumber('--iou', flags.iou);
  const report = kind === 'pii' ? evalPii(rows, iou === undefined ? {} : { iou }, progress) : evalPromptInjection(rows, new InputGuardian(), progress);
  if (progress) io.stderr('\n');
  if (flags.json) io.stdout(`${JSON.stringify({ kind, ...report }, null, 2)}\n`);
  else io.stdout(kind === 'pii' ? describePii(report as ReturnType<typeof evalPii>) : describeClassification(report as ReturnType<typeof evalPromptInjection>));
  return 0;
}
