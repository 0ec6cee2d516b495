import { type CliCapabilities, type CliIo, type CommandRegistrar, type CommandResult, EXIT, type ExitCode, UsageError, isCommanderError } from './io.js';
import { buildProgram } from './program.js';

/**
 * Runs the CLI in-process and returns its exit code; never calls process.exit (tests rely on that). `extra` are
 * commands and `capabilities` services from outside src/ (the enclave runner's), composed by the process entry.
 */
export async function runCli(argv: readonly string[], io: CliIo, extra: readonly CommandRegistrar[] = [], capabilities: CliCapabilities = {}): Promise<ExitCode> {
  const result: CommandResult = { exitCode: EXIT.ok };
  const program = buildProgram(capabilities.runner ? { ...io, runner: capabilities.runner } : io, result, extra);
  try {
    await program.parseAsync(['node', 'zt4ai', ...argv]);
    return result.exitCode;
  } catch (e) {
    if (isCommanderError(e)) {
      // --help and --version end through exitOverride with exit code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof UsageError) {
      io.stderr(`zt4ai: ${e.message} [${e.code}]\n`);
      return EXIT.usage;
    }
    throw e;
  }
}
