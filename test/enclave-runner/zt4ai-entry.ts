// The CLI composed as bin/zt4ai.js composes it, but from the TypeScript sources (child-process tests run it with
// `node --import tsx`, so they need no build).
import { runnerCommands, runnerLauncher } from '../../enclave-runner/cli.js';
import { main } from '../../src/cli/main.js';

process.exitCode = await main(runnerCommands, { runner: runnerLauncher });
