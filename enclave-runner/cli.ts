import { registerRunnerCommands } from './cli/commands.js';
import { registerGuardCommands } from './guardians/cli.js';

/**
 * The runner's CLI commands. src/cli and enclave-runner never import each other, so the process entry
 * (bin/zt4ai.js), which sits outside both, hands these to src/cli's runCli; tests do the same.
 */
export const runnerCommands = [registerGuardCommands, registerRunnerCommands] as const;

/** The runner as a capability of the CLI (the demo launches runners through it); see launcher.ts. */
export { runnerLauncher } from './launcher.js';
