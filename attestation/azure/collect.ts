import { AttestationError } from '../errors.js';

/** Runs a check that throws AttestationError; the error joins `errors` and the result is null, so every failure is listed. */
export function collect<T>(errors: AttestationError[], fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof AttestationError)) throw e;
    errors.push(e);
    return null;
  }
}
