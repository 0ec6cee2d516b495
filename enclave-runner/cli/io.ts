import type { RunnerReason } from '../errors.js';

/**
 * Where the runner's commands write, declared structurally (src/ and enclave-runner/ never import each
 * other): src/cli's CliIo and CommandResult fit these. Usage, configuration and I/O problems are reported
 * here as `zt4ai: message [code]` with exit code 2.
 */
export interface RunnerCliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly cwd: string;
}

export interface RunnerCliResult {
  exitCode: 0 | 1 | 2;
}

/** A usage or I/O problem: exit 2. */
export class RunnerUsageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function printJson(io: RunnerCliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

/** A reason's code, and each failing clause or check on its own line. */
export function describeReason(reason: RunnerReason | undefined): string {
  if (!reason) return '';
  const details = (reason.details ?? []).map((d) => `\n    - ${d.message} [${d.code}]`).join('');
  return ` (reason: ${reason.code})${details}`;
}
