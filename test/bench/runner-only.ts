import { benchRunner } from './runner.bench.js';

/** `npx tsx test/bench/runner-only.ts`: only the runner figures (tokens/s through the runner, time to ready). */
process.exitCode = (await benchRunner()) ? 0 : 1;
