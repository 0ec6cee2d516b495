import { expect } from 'vitest';
import type { RunnerConfig } from '../../enclave-runner/config/types.js';
import { RunnerError } from '../../enclave-runner/errors.js';
import { type RunningRunner, launchRunner } from '../../enclave-runner/runner.js';

/** The RunnerError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function runnerFailure(p: Promise<unknown>): Promise<RunnerError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RunnerError);
  return e as RunnerError;
}

/** Launches a runner whose start-up must fail; returns its error and the stopped runner (its /status stays readable). */
export async function failedStart(config: RunnerConfig): Promise<{ err: RunnerError; runner: RunningRunner }> {
  const runner = await launchRunner(config);
  const err = await runnerFailure(runner.ready);
  await runner.stop();
  return { err, runner };
}
