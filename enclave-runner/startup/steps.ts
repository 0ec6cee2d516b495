import type { Logger } from 'pino';
import { RunnerError, reasonOf } from '../errors.js';
import type { RunnerMetrics } from '../metrics.js';

/** The start-up steps, in order. Names are stable: /status, logs and metrics use them. */
export const STEPS = ['model-download', 'tee-key', 'evidence', 'attest', 'release', 'model-signature', 'unseal', 'load-model', 'serve'] as const;
/** A start-up step's stable name. */
export type StepName = (typeof STEPS)[number];
/** Steps only some configurations have (a sealed model in Blob Storage): listed once they start. */
const OPTIONAL_STEPS: ReadonlySet<StepName> = new Set(['model-download']);

/** One step as /status shows it: never secrets, only what an operator needs to see what was decided. */
export interface StepOutcome {
  readonly name: StepName;
  state: 'pending' | 'running' | 'ok' | 'failed';
  ok: boolean | null;
  ms: number | null;
  detail?: Record<string, unknown>;
  error?: ReturnType<RunnerError['toJSON']>;
}

/**
 * Runs the steps in order, timing and logging each, and stops at the first failure: the failure becomes
 * a RunnerError that names its step; the steps after it stay `pending`.
 */
export class StepRecorder {
  readonly steps: StepOutcome[] = STEPS.filter((name) => !OPTIONAL_STEPS.has(name)).map((name) => ({ name, state: 'pending', ok: null, ms: null }));
  readonly #logger: Logger;
  readonly #metrics: RunnerMetrics;
  readonly #signal: AbortSignal;

  constructor(logger: Logger, metrics: RunnerMetrics, signal: AbortSignal) {
    this.#logger = logger;
    this.#metrics = metrics;
    this.#signal = signal;
  }

  /** The step that failed, if one did. */
  get failed(): StepOutcome | undefined {
    return this.steps.find((s) => s.state === 'failed');
  }

  async run<T>(name: StepName, fn: () => Promise<T>, detail?: (value: T) => Record<string, unknown>): Promise<T> {
    const step = this.steps.find((s) => s.name === name) ?? this.#insert(name);
    const started = performance.now();
    step.state = 'running';
    try {
      if (this.#signal.aborted) throw new RunnerError('ERR_RUNNER_STOPPED');
      const value = await fn();
      if (this.#signal.aborted) throw new RunnerError('ERR_RUNNER_STOPPED');
      const ms = elapsed(started);
      Object.assign(step, { state: 'ok', ok: true, ms, ...(detail ? { detail: detail(value) } : {}) });
      this.#metrics.startupSteps.set({ step: name, outcome: 'ok' }, ms / 1000);
      this.#logger.info({ step: name, ms, ...step.detail }, `start-up step ${name} ok`);
      return value;
    } catch (e) {
      const err = asRunnerError(e, name);
      const ms = elapsed(started);
      Object.assign(step, { state: 'failed', ok: false, ms, error: err.toJSON() });
      this.#metrics.startupSteps.set({ step: name, outcome: 'failed' }, ms / 1000);
      this.#logger.error({ step: name, ms, code: err.code, reason: err.reason?.code, details: err.reason?.details?.map((d) => d.message) }, `start-up step ${name} failed: ${err.message}`);
      throw err;
    }
  }

  /** An optional step, placed where STEPS orders it. */
  #insert(name: StepName): StepOutcome {
    const step: StepOutcome = { name, state: 'pending', ok: null, ms: null };
    const at = this.steps.findIndex((s) => STEPS.indexOf(s.name) > STEPS.indexOf(name));
    this.steps.splice(at === -1 ? this.steps.length : at, 0, step);
    return step;
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function asRunnerError(e: unknown, step: StepName): RunnerError {
  if (e instanceof RunnerError) {
    e.step = step;
    return e;
  }
  const reason = reasonOf(e);
  return new RunnerError('ERR_RUNNER_INTERNAL', `${step}: ${(e as Error)?.message ?? String(e)}`, { cause: e, step, ...(reason ? { reason } : {}) });
}
