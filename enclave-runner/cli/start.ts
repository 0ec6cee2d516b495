import { loadRunnerConfigFile } from '../config/load.js';
import { listen } from '../config/values.js';
import { RunnerError, isRunnerError } from '../errors.js';
import { createRunnerLogger } from '../logging.js';
import { type RunningRunner, launchRunner } from '../runner.js';
import { type RunnerCliIo, describeReason, printJson } from './io.js';

/**
 * `zt4ai runner start`: loads the configuration (a bad one exits 2), starts the runner, prints
 * `listening on <url>` once it serves, and runs until SIGTERM or SIGINT, which stop it cleanly (key buffers
 * zeroed, plaintext removed) and exit 0. A failed start-up prints the step and the reason and exits 1.
 */
export async function startCommand(io: RunnerCliIo, file: string, json: boolean, listenAt?: string): Promise<0 | 1 | 2> {
  const loaded = await loadRunnerConfigFile(file);
  // --listen replaces the file's address (e.g. a port another runner chose): not part of the config digest.
  const config = listenAt === undefined ? loaded : { ...loaded, listen: listen(listenAt) };
  // Logs go to stderr: stdout carries only the command's own output.
  const logger = createRunnerLogger(config.logLevel, { write: (line: string) => io.stderr(line) });
  let runner: RunningRunner;
  try {
    runner = await launchRunner(config, { logger });
  } catch (e) {
    if (isRunnerError(e) && e.code === 'ERR_RUNNER_LISTEN') throw new RunnerError('ERR_RUNNER_CONFIG', e.message, { cause: e });
    throw e;
  }
  const signals = untilSignal(() => runner.stop());
  try {
    await runner.ready;
  } catch (e) {
    await runner.stop();
    signals.remove();
    const err = isRunnerError(e) ? e : new RunnerError('ERR_RUNNER_INTERNAL', String(e));
    if (err.code === 'ERR_RUNNER_STOPPED') return 0;
    if (json) printJson(io, { ok: false, step: err.step ?? null, ...err.toJSON() });
    else io.stderr(`zt4ai runner: start-up failed at step ${err.step ?? '?'}: ${err.message} [${err.code}]${describeReason(err.reason)}\n`);
    return 1;
  }
  if (json) printJson(io, { listening: runner.url });
  else io.stdout(`listening on ${runner.url}\n`);
  await signals.stopped;
  return 0;
}

/** SIGTERM and SIGINT stop the runner once; `stopped` resolves when it has. */
function untilSignal(stop: () => Promise<void>): { stopped: Promise<void>; remove: () => void } {
  let handler: (() => void) | null = null;
  const stopped = new Promise<void>((resolve) => {
    handler = () => {
      remove();
      void stop().finally(resolve);
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  });
  const remove = (): void => {
    if (!handler) return;
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
  return { stopped, remove };
}
