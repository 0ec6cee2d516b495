import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OFF, REPORT_SIZE } from '../../attestation/snp/layout.js';
import { RunnerError } from '../errors.js';
import { parseCertTable } from './cert-table.js';
import type { EvidenceSource, SnpEvidence } from './source.js';

/** The Linux configfs-tsm root (Documentation/ABI/testing/configfs-tsm, Linux >= 6.7). */
export const CONFIGFS_TSM_ROOT = '/sys/kernel/config/tsm';
export const SEV_GUEST_PROVIDER = 'sev_guest';

export interface ConfigfsTsmOptions {
  /** The tsm directory (holding `report/`): the kernel's, or the simulator's tree. */
  readonly root: string;
  /** The simulator's tree: said in logs and /status, and entries are removed as plain directories. */
  readonly simulated: boolean;
  /** How long to wait for the kernel (or the simulator's responder). Default 10 s. */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
}

/**
 * SEV-SNP evidence through configfs-tsm: make a fresh `report/<entry>`, write the 64 bytes of REPORT_DATA
 * to `inblob`, read the report from `outblob` and the certificate table from `auxblob`, and check that
 * `generation` moved exactly once (ours): any other write to the entry between ours and the read would
 * mean the report answers someone else's request. The kernel bumps generation on the write; the
 * simulator's responder bumps it when its answer is complete, so the same wait serves both.
 */
export class ConfigfsTsmSource implements EvidenceSource {
  readonly kind: 'configfs-tsm' | 'simulated';
  readonly location: string;
  readonly simulated: boolean;
  /** REPORT_DATA itself binds the runtime data (and the challenge in it, when there is one). */
  readonly needsChallenge = false;
  readonly #timeoutMs: number;
  readonly #pollMs: number;

  constructor(options: ConfigfsTsmOptions) {
    this.kind = options.simulated ? 'simulated' : 'configfs-tsm';
    this.location = join(options.root, 'report');
    this.simulated = options.simulated;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#pollMs = options.pollMs ?? 10;
  }

  async getReport(reportData: Buffer): Promise<SnpEvidence> {
    if (reportData.length !== 64) throw new RangeError('REPORT_DATA is exactly 64 bytes');
    const entry = join(this.location, `zt4ai-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(entry);
    } catch (cause) {
      throw fail(`cannot create ${entry}: ${(cause as NodeJS.ErrnoException).code ?? 'error'} (is configfs mounted and the runner allowed to write it?)`, cause);
    }
    try {
      return await this.#request(entry, reportData);
    } finally {
      await this.#remove(entry);
    }
  }

  async #request(entry: string, reportData: Buffer): Promise<SnpEvidence> {
    const f = (name: string): string => join(entry, name);
    // The kernel creates the attributes with the directory; the simulator's responder on its next pass.
    let before = -1;
    await this.#until(async () => {
      before = await readGeneration(f('generation'));
      return exists(f('provider'));
    }, 'the entry attributes to appear');
    const provider = (await readFile(f('provider'), 'utf8')).trim();
    if (provider !== SEV_GUEST_PROVIDER) throw fail(`${entry} is served by provider "${provider.slice(0, 40)}", not ${SEV_GUEST_PROVIDER} (not an SEV-SNP guest?)`);
    await writeFile(f('inblob'), reportData);
    await this.#until(async () => (await readGeneration(f('generation'))) > before, 'the report');
    const report = await readFile(f('outblob'));
    const aux = await readFile(f('auxblob')).catch(() => Buffer.alloc(0));
    const after = await readGeneration(f('generation'));
    if (after !== before + 1) throw fail(`generation of ${entry} moved from ${before} to ${after}: another request was written to the entry, so the report may not be ours`);
    if (report.length !== REPORT_SIZE) throw fail(`outblob holds ${report.length} bytes, not an ${REPORT_SIZE}-byte report`);
    if (!report.subarray(OFF.reportData, OFF.reportData + 64).equals(reportData)) throw fail('the report does not carry the REPORT_DATA that was written');
    return { report, certificates: parseCertTable(aux) };
  }

  async #until(check: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + this.#timeoutMs;
    // A file being created may be read empty for a moment: such a read counts as "not yet".
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw fail(`no answer from ${this.simulated ? "the simulator's responder" : 'the kernel'} within ${this.#timeoutMs} ms (waiting for ${what} under ${this.location})`);
      await sleep(this.#pollMs);
    }
  }

  /** configfs removes an item with its attributes on rmdir; the simulator's tree holds plain files. */
  async #remove(entry: string): Promise<void> {
    await (this.simulated ? rm(entry, { recursive: true, force: true }) : rmdir(entry)).catch(() => undefined);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function readGeneration(path: string): Promise<number> {
  const n = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
  if (!Number.isInteger(n) || n < 0) throw fail(`${path} does not hold a generation number`);
  return n;
}

function fail(message: string, cause?: unknown): RunnerError {
  return new RunnerError('ERR_RUNNER_EVIDENCE', message, cause === undefined ? {} : { cause });
}
