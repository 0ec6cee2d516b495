import type { RunnerError } from '../errors.js';
import type { ServedModel } from '../startup/sequence.js';
import type { StepOutcome } from '../startup/steps.js';

/** What `GET /status` answers: the runner's state and every start-up step with its outcome and duration. */
export interface RunnerStatus {
  readonly state: 'starting' | 'serving' | 'failed' | 'stopping' | 'stopped';
  readonly configSha256: string;
  readonly steps: readonly StepOutcome[];
  /** The step that stopped start-up, with its code and reason. */
  readonly failure: ({ readonly step: string | null } & ReturnType<RunnerError['toJSON']>) | null;
  readonly model: ServedModel | null;
  /** True when the evidence came from the simulator. */
  readonly simulated: boolean | null;
}
