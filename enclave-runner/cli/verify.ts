import { request } from 'undici';
import type { RunnerStatus } from '../serve/status.js';
import { type RunnerCliIo, RunnerUsageError, describeReason, printJson } from './io.js';

/**
 * `zt4ai runner verify --url`: reads the runner's `/status` and checks that it serves and that every
 * start-up step ended ok. Exit 0 yes, 1 no (the failing step and reason are printed), 2 unreachable.
 * This reads what the runner says about itself; checking its attestation from the client side is
 * separate (see README, not yet built).
 */
export async function verifyCommand(io: RunnerCliIo, url: string, json: boolean): Promise<0 | 1 | 2> {
  const status = await fetchStatus(url);
  const ok = status.state === 'serving' && status.steps.every((s) => s.ok === true);
  if (json) {
    printJson(io, { ok, ...status });
    return ok ? 0 : 1;
  }
  io.stdout(`runner ${url}: ${status.state}${status.simulated ? ' (SIMULATED evidence)' : ''}; configuration ${status.configSha256}\n`);
  for (const s of status.steps) {
    const mark = s.ok === true ? '✓' : s.ok === false ? '✗' : '·';
    const why = s.error ? `: ${s.error.message} [${s.error.code}]${describeReason(s.error.reason)}` : '';
    io.stdout(`  ${mark} ${s.name.padEnd(16)}${s.ms === null ? '' : `${s.ms} ms`}${why}\n`);
  }
  if (status.model) io.stdout(`  model ${status.model.id}, root digest ${status.model.rootDigest}, signer ${status.model.signer}\n`);
  io.stdout(ok ? 'every step ok: serving\n' : 'NOT serving\n');
  return ok ? 0 : 1;
}

async function fetchStatus(url: string): Promise<RunnerStatus> {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new RunnerUsageError('ERR_USAGE', `--url "${url}" is not a URL`);
  }
  try {
    const res = await request(new URL('/status', base), { headersTimeout: 10_000, bodyTimeout: 10_000 });
    const body = (await res.body.json()) as RunnerStatus;
    if (res.statusCode !== 200 || !Array.isArray(body?.steps)) throw new Error(`HTTP ${res.statusCode}`);
    return body;
  } catch (e) {
    throw new RunnerUsageError('ERR_IO', `cannot read ${new URL('/status', base).href}: ${(e as { code?: string }).code ?? (e as Error).message}`);
  }
}
