#!/usr/bin/env node
// The process entry: it composes the CLI of src/ with the enclave runner's commands and the runner itself (the
// demo launches runners), because those two trees never import each other. The TypeScript is compiled to dist/
// by `npm install` (the prepare script).
import { runnerCommands, runnerLauncher } from '../dist/enclave-runner/cli.js';
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(runnerCommands, { runner: runnerLauncher });
