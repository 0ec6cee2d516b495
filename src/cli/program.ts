import { Command } from 'commander';
import { registerAuditCommands } from './commands/audit.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerEvidenceCommands } from './commands/evidence.js';
import { registerKeysCommands } from './commands/keys.js';
import { registerKrsCommands } from './commands/krs.js';
import { registerModelCommands } from './commands/model.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerSimCommands } from './commands/sim.js';
import type { CliIo, CommandRegistrar, CommandResult } from './io.js';

/**
 * Builds the `zt4ai` command tree. Every command takes --json and --help; `result.exitCode` carries the
 * verdict (0 ok, 1 negative, 2 usage or I/O).
 */
export function buildProgram(io: CliIo, result: CommandResult, extra: readonly CommandRegistrar[] = []): Command {
  const program = new Command('zt4ai')
    .description('Zero Trust for AI: SEV-SNP attestation, attestation-gated model key release, enclave runner')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // Root options only before a subcommand: `sim report --version 3` must reach the subcommand, not print
    // the CLI's version.
    .enablePositionalOptions()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerDemoCommand(program, io, result);
  registerEvidenceCommands(program, io, result);
  registerSimCommands(program, io, result);
  registerPolicyCommands(program, io, result);
  registerKrsCommands(program, io, result);
  registerKeysCommands(program, io, result);
  registerAuditCommands(program, io, result);
  registerModelCommands(program, io, result);
  for (const register of extra) register(program, io, result);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return program;
}
