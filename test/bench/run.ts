import { benchAttest } from './attest.bench.js';
import { benchGuards } from './guard.bench.js';
import { benchModel } from './model.bench.js';
import { benchRelease } from './release.bench.js';
import { benchRunner } from './runner.bench.js';
import { benchSnpVerify } from './snp-verify.bench.js';

/** `npm run bench`: every figure is a ratio to a limit measured in the same run on the same machine. */
const results = [await benchSnpVerify(), await benchAttest(), await benchRelease(), await benchGuards(), await benchModel(), await benchRunner()];
console.log(results.every(Boolean) ? 'bench: all goals met' : 'bench: some figures are below their goal');
