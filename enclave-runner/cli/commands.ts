import { resolve } from 'node:path';
import type { Command } from 'commander';
import { LLAMA_DEMO_FILE, makeLlamaDemoModel } from '../backends/llama/demo-model.js';
import { DEMO_MODEL_FILE, makeDemoModel } from '../backends/ngram/demo-model.js';
import { configDigest, effectiveConfig } from '../config/digest.js';
import { loadRunnerConfigFile } from '../config/load.js';
import { isRunnerError } from '../errors.js';
import { type RunnerCliIo, type RunnerCliResult, RunnerUsageError, printJson } from './io.js';
import { startCommand } from './start.js';
import { verifyCommand } from './verify.js';

interface JsonFlag {
  json?: boolean;
}

/**
 * `zt4ai runner start | verify | config-digest | make-demo-model`. Exit codes: 0 done (start: stopped
 * cleanly by SIGTERM/SIGINT), 1 a negative outcome (start-up failed, a step not ok), 2 usage,
 * configuration or I/O.
 */
export function registerRunnerCommands(program: Command, io: RunnerCliIo, result: RunnerCliResult): void {
  const runner = program.command('runner').description('the enclave runner: attest, obtain the model key, unseal and verify the model, serve an OpenAI-compatible API');
  runner
    .command('start')
    .description('run the start-up sequence and serve; prints "listening on <url>" once serving; stops on SIGTERM/SIGINT')
    .requiredOption('--config <file>', 'runner configuration (JSON; see README "The enclave runner")')
    .option('--listen <host:port>', "listen here instead of the file's listen setting (e.g. when another runner starts this one as its upstream)")
    .option('--json', 'print {"listening": url} (or the failure) as JSON')
    .action((flags: { config: string; listen?: string } & JsonFlag) => run(io, result, () => startCommand(io, resolve(io.cwd, flags.config), flags.json === true, flags.listen)));
  runner
    .command('verify')
    .description("a client's checks before it sends anything: the runner's /attestation (SNP report and chain, or on Azure the HCL report, TPM quote and PCRs; the runtime-data binding, token, optional release policy, TLS key binding) and /status; exit 0 all passed, 1 any failed")
    .argument('[url]', 'the runner (or --url)')
    .option('--url <url>', 'the runner, e.g. https://runner.example.com:8443')
    .option('--policy <file>', 'a release policy (Key Vault grammar) evaluated over the verified claims')
    .option('--sim-roots <file>', "also trust the simulator's roots (PEM, e.g. from the demo); verdicts are marked SIMULATED")
    .option('--json', 'print the checks, the status and the verdict as JSON')
    .action((positional: string | undefined, flags: { url?: string; policy?: string; simRoots?: string } & JsonFlag) =>
      run(io, result, async () => {
        const url = flags.url ?? positional;
        if (!url) throw new RunnerUsageError('ERR_USAGE', 'runner verify needs the runner URL (zt4ai runner verify <url>)');
        return verifyCommand(io, url, {
          json: flags.json === true,
          ...(flags.policy ? { policyFile: resolve(io.cwd, flags.policy) } : {}),
          ...(flags.simRoots ? { simRootsFile: resolve(io.cwd, flags.simRoots) } : {}),
        });
      }),
    );
  runner
    .command('config-digest')
    .description('print the SHA-256 a release policy pins (x-ms-runtime.x-zt4ai-config from a KRS; base64 of it as x-ms-runtime.client-payload.zt4ai-config from Azure Attestation), and what it covers')
    .requiredOption('--config <file>', 'runner configuration (JSON)')
    .option('--json', 'print {sha256, effective} as JSON')
    .action((flags: { config: string } & JsonFlag) =>
      run(io, result, async () => {
        const config = await loadRunnerConfigFile(resolve(io.cwd, flags.config));
        const sha256 = configDigest(config);
        // AzureGuest reports ClientPayload values base64-encoded, as the guest sent them (azure-guest.ts).
        if (flags.json) printJson(io, { sha256, clientPayloadBase64: Buffer.from(sha256, 'utf8').toString('base64'), effective: effectiveConfig(config) });
        else io.stdout(`${sha256}\n`);
        return 0;
      }),
    );
  runner
    .command('make-demo-model')
    .description('write a demo model into an empty directory: llama (the committed 6.8 MB GGUF trained on the King James Bible) or ngram (a 16 KB word-level toy)')
    .requiredOption('--out <dir>', 'output directory (created; must be empty)')
    .option('--kind <kind>', 'llama or ngram', 'llama')
    .option('--json', 'print the files as JSON')
    .action((flags: { out: string; kind: string } & JsonFlag) =>
      run(io, result, async () => {
        const out = resolve(io.cwd, flags.out);
        if (flags.kind !== 'llama' && flags.kind !== 'ngram') throw new RunnerUsageError('ERR_USAGE', `--kind must be llama or ngram, not "${flags.kind}"`);
        const made = await (flags.kind === 'llama' ? makeLlamaDemoModel(out) : makeDemoModel(out)).catch((e: Error) => {
          throw new RunnerUsageError('ERR_IO', e.message);
        });
        const backend = flags.kind === 'llama' ? { kind: 'llama', file: LLAMA_DEMO_FILE, contextSize: 256 } : { kind: 'ngram', file: DEMO_MODEL_FILE };
        if (flags.json) printJson(io, { out, ...made, backend });
        else io.stdout(`wrote ${made.files.join(', ')} to ${out} (${made.bytes} bytes of model); sign and seal it with zt4ai model seal, and serve it with backend ${JSON.stringify(backend)}\n`);
        return 0;
      }),
    );
}

/** Runs a command body; configuration and usage problems exit 2 with `zt4ai: message [code]`. */
async function run(io: RunnerCliIo, result: RunnerCliResult, body: () => Promise<0 | 1 | 2>): Promise<void> {
  try {
    result.exitCode = await body();
  } catch (e) {
    if (e instanceof RunnerUsageError || (isRunnerError(e) && e.code === 'ERR_RUNNER_CONFIG')) {
      io.stderr(`zt4ai: ${e.message} [${e.code}]\n`);
      result.exitCode = 2;
      return;
    }
    throw e;
  }
}
