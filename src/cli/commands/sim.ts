import type { Command } from 'commander';
import type { CliIo, CommandResult } from '../io.js';

/** `zt4ai sim ...`: simulated SEV-SNP evidence. */
export function registerSimCommands(program: Command, _io: CliIo, _result: CommandResult): void {
  program.command('sim').description('simulated AMD roots and SNP firmware: make evidence for local runs and CI');
}
