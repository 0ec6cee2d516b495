import { type Command, CommanderError } from 'commander';

/** Where a command writes. Tests pass buffers; the real CLI passes process streams. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** The enclave runner, when the process entry composed one in (see CliCapabilities); the demo launches runners with it. */
  readonly runner?: RunnerLauncher;
}

/** A runner the demo launched: listening already; poll `${url}/readyz`. */
export interface LaunchedRunner {
  readonly url: string;
  /** The runner's /status (every start-up step with its outcome). */
  status(): Promise<unknown>;
  /** Stops it: key buffers zeroed, plaintext removed. */
  stop(): Promise<void>;
}

/**
 * The enclave runner as a capability, typed structurally so that src/ never imports enclave-runner/: the process
 * entry (bin/zt4ai.js) and test/helpers/cli.ts pass enclave-runner's `runnerLauncher`. Configurations are the
 * runner's JSON config objects, paths relative to `baseDir`.
 */
export interface RunnerLauncher {
  /** The SHA-256 the runner puts in its runtime data as x-zt4ai-config, for a release policy to pin. */
  configDigest(config: Record<string, unknown>, baseDir: string): Promise<string>;
  launch(config: Record<string, unknown>, baseDir: string): Promise<LaunchedRunner>;
  /** Writes the demo model into an empty directory; returns the runner's `backend` setting for it and the model file's name. */
  makeDemoModel(outDir: string): Promise<{ backend: Record<string, unknown>; modelFile: string }>;
}

/** What the process entry adds to the CLI besides commands. */
export interface CliCapabilities {
  readonly runner?: RunnerLauncher;
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
