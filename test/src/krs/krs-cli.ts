import { Command, CommanderError } from 'commander';
import { type KrsCliHooks, registerKrsCommands } from '../../../src/cli/commands/krs.js';
import { type CliIo, type CommandResult, EXIT, UsageError } from '../../../src/cli/io.js';

export interface KrsCliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `zt4ai krs ...` in-process the way src/cli/run.ts runs the whole CLI (same exit-code mapping), with
 * the test hooks that stop `krs serve` without a process signal. The real signal path is tested through
 * src/cli/main.ts in a child process.
 */
export async function runKrsCli(args: string[], hooks: KrsCliHooks = {}, overrides: Partial<CliIo> = {}): Promise<KrsCliRun> {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    isTTY: false,
    env: { ...process.env },
    cwd: process.cwd(),
    ...overrides,
  };
  const result: CommandResult = { exitCode: EXIT.ok };
  const program = new Command('zt4ai').exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerKrsCommands(program, io, result, hooks);
  try {
    await program.parseAsync(['node', 'zt4ai', ...args]);
    return { code: result.exitCode, ...out };
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.exitCode === 0 ? EXIT.ok : EXIT.usage, ...out };
    if (e instanceof UsageError) return { code: EXIT.usage, ...out, stderr: `${out.stderr}zt4ai: ${e.message} [${e.code}]\n` };
    throw e;
  }
}
