import { runnerCommands, runnerLauncher } from '../../enclave-runner/cli.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json: () => Record<string, unknown>;
}

/** Runs the CLI in-process with captured output, composed as bin/zt4ai.js composes it. */
export async function cli(args: string[], overrides: Partial<CliIo> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    isTTY: false,
    env: { ...process.env },
    cwd: process.cwd(),
    ...overrides,
  }, runnerCommands, { runner: runnerLauncher });
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> };
}
