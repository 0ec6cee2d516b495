import { expect } from 'vitest';
import { RunnerError } from '../../enclave-runner/errors.js';

/** The RunnerError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function runnerFailure(p: Promise<unknown>): Promise<RunnerError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RunnerError);
  return e as RunnerError;
}
