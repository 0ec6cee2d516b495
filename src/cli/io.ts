import { type Command, CommanderError } from 'commander';

/** Where a command writes. Tests pass buffers; the real CLI passes process streams. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** Exit codes: 0 success, 1 a negative verdict (rejected, denied, invalid), 2 usage or I/O error. */
export const EXIT = { ok: 0, negative: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Thrown by commands for usage and I/O problems; main() turns it into exit 2 with the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Set by a command to report its verdict; main() exits with it. */
export interface CommandResult {
  exitCode: ExitCode;
}

/**
 * Adds commands from outside src/ (the enclave runner's), typed structurally so that neither tree imports the
 * other: the process entry composes them (bin/zt4ai.js).
 */
export type CommandRegistrar = (program: Command, io: CliIo, result: CommandResult) => void;

export function isCommanderError(e: unknown): e is CommanderError {
  return e instanceof CommanderError;
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
