import { pathToFileURL } from 'node:url';
import type { CliCapabilities, CommandRegistrar } from './io.js';
import { runCli } from './run.js';

/** Runs the CLI on this process's arguments and streams; `extra` and `capabilities` come from outside src/ (bin/zt4ai.js). */
export async function main(extra: readonly CommandRegistrar[] = [], capabilities: CliCapabilities = {}): Promise<number> {
  return runCli(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  }, extra, capabilities);
}

// Run directly (tests spawn `node --import tsx src/cli/main.ts krs serve ...`): the src/ commands only.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
