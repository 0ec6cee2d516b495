import type { Command } from 'commander';
import type { CliIo, CommandResult } from '../io.js';

export function registerEvidenceCommands(program: Command, _io: CliIo, _result: CommandResult): void {
  program.command('evidence').description('verify SEV-SNP attestation evidence against the pinned AMD roots');
}
