/**
 * Runs the `zt4ai guard ...` commands on their own, before they are wired into the main CLI:
 *   npx tsx scripts/guardians/guard-cli.ts guard eval ../shared/datasets/prompt-injection/dev.jsonl
 */
import { Command } from 'commander';
import { registerGuardCommands } from '../../enclave-runner/guardians/cli.js';

export async function runGuardCli(argv: readonly string[]): Promise<number> {
  const result: { exitCode: 0 | 1 | 2 } = { exitCode: 0 };
  const out = (t: string) => process.stdout.write(t);
  const err = (t: string) => process.stderr.write(t);
  const program = new Command('zt4ai').exitOverride().configureOutput({ writeOut: out, writeErr: err });
  registerGuardCommands(program, { stdout: out, stderr: err, isTTY: Boolean(process.stderr.isTTY), cwd: process.cwd() }, result);
  try {
    await program.parseAsync(['node', 'zt4ai', ...argv]);
    return result.exitCode;
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    if (typeof code === 'number') return code === 0 ? 0 : 2;
    throw e;
  }
}

if (process.argv[1]?.endsWith('guard-cli.ts')) process.exitCode = await runGuardCli(process.argv.slice(2));
