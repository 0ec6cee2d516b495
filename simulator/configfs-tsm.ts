import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SimulatedFirmware } from './firmware.js';

/**
 * A configfs-tsm tree like Linux's /sys/kernel/config/tsm (Documentation/ABI/testing/configfs-tsm): a guest
 * makes `report/<name>/`, writes up to 64 bytes of report data to `inblob` and reads the report from
 * `outblob` and the certificate table from `auxblob`. On real hardware the kernel answers the read; here
 * `fulfilTsmRequest` or a `TsmResponder` plays the kernel and the firmware. The responder writes outblob
 * and auxblob first and bumps `generation` last, so a reader that saw generation N before writing inblob
 * waits for N+1 and then reads a complete answer.
 */
export const TSM_PROVIDER = 'sev_guest';

export interface TsmEntryPaths {
  readonly dir: string;
  readonly inblob: string;
  readonly outblob: string;
  readonly auxblob: string;
  readonly provider: string;
  readonly generation: string;
  readonly privlevel: string;
  readonly privlevelFloor: string;
}

export function tsmEntryPaths(entryDir: string): TsmEntryPaths {
  const f = (name: string): string => join(entryDir, name);
  return {
    dir: entryDir,
    inblob: f('inblob'),
    outblob: f('outblob'),
    auxblob: f('auxblob'),
    provider: f('provider'),
    generation: f('generation'),
    privlevel: f('privlevel'),
    privlevelFloor: f('privlevel_floor'),
  };
}

async function writeIfMissing(path: string, content: string | Uint8Array): Promise<void> {
  await writeFile(path, content, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}

/** Temp file + rename, so a concurrent reader never sees half a report. */
async function writeAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

/**
 * Makes `<tsmDir>/report/<name>/` with the attributes the kernel creates on mkdir (existing files are kept,
 * as a guest may have made the directory itself). Returns the entry directory.
 */
export async function createTsmEntry(tsmDir: string, name = 'zt4ai'): Promise<string> {
  const p = tsmEntryPaths(join(tsmDir, 'report', name));
  await mkdir(p.dir, { recursive: true });
  await writeIfMissing(p.provider, `${TSM_PROVIDER}\n`);
  await writeIfMissing(p.generation, '0\n');
  await writeIfMissing(p.privlevel, '0\n');
  await writeIfMissing(p.privlevelFloor, '0\n');
  for (const blob of [p.inblob, p.outblob, p.auxblob]) await writeIfMissing(blob, new Uint8Array(0));
  return p.dir;
}

async function readInteger(path: string, fallback: number): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const n = Number.parseInt(text.trim(), 10);
  return Number.isNaN(n) ? fallback : n;
}

export interface TsmFulfilment {
  readonly generation: number;
  readonly report: Buffer;
  readonly certTable: Buffer;
}

/**
 * Answers the request pending in one entry: reads inblob (at most 64 bytes, as the kernel enforces) and
 * privlevel (the VMPL), writes outblob and auxblob, then increments generation.
 */
export async function fulfilTsmRequest(entryDir: string, firmware: SimulatedFirmware): Promise<TsmFulfilment> {
  const p = tsmEntryPaths(entryDir);
  const inblob = await readFile(p.inblob);
  if (inblob.length > 64) throw new RangeError(`${p.inblob} holds ${inblob.length} bytes; configfs-tsm takes at most 64`);
  const vmpl = await readInteger(p.privlevel, 0);
  const { report, certTable } = firmware.getExtendedReport(inblob, vmpl);
  await writeAtomic(p.outblob, report);
  await writeAtomic(p.auxblob, certTable);
  const generation = (await readInteger(p.generation, 0)) + 1;
  await writeAtomic(p.generation, `${generation}\n`);
  return { generation, report, certTable };
}

export interface TsmResponderOptions {
  /** How often to look for new inblob writes (default 20 ms). */
  readonly intervalMs?: number;
  /** Called with failures that would otherwise stop the loop (default: ignored). */
  readonly onError?: (error: unknown) => void;
}

/**
 * Plays the kernel for every entry under `<tsmDir>/report/`: whenever an inblob is written (its mtime or size
 * changes) the request is fulfilled. Entries a guest makes with a bare mkdir get the kernel's attributes.
 * Polls rather than fs.watch, which misses events on some file systems (overlay, network mounts).
 */
export class TsmResponder {
  private readonly seen = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private servedCount = 0;

  constructor(
    private readonly tsmDir: string,
    private readonly firmware: SimulatedFirmware,
    private readonly options: TsmResponderOptions = {},
  ) {}

  /** Requests answered so far. */
  get served(): number {
    return this.servedCount;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.poll()
        .then(() => undefined)
        .catch((e: unknown) => this.options.onError?.(e))
        .finally(() => {
          this.running = null;
        });
    }, this.options.intervalMs ?? 20);
    this.timer.unref();
  }

  /** Stops polling and waits for a request in progress to finish. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass over all entries; public so tests can step the responder without timers. */
  async poll(): Promise<number> {
    const reportDir = join(this.tsmDir, 'report');
    const entries = await readdir(reportDir, { withFileTypes: true }).catch(() => []);
    let served = 0;
    for (const entry of entries) {
      if (entry.isDirectory() && (await this.serveEntry(entry.name))) served++;
    }
    this.servedCount += served;
    return served;
  }

  private async serveEntry(name: string): Promise<boolean> {
    const entryDir = await createTsmEntry(this.tsmDir, name);
    const s = await stat(tsmEntryPaths(entryDir).inblob, { bigint: true });
    const stamp = `${s.mtimeNs}:${s.size}`;
    if (s.size === 0n || this.seen.get(name) === stamp) return false;
    await fulfilTsmRequest(entryDir, this.firmware);
    this.seen.set(name, stamp);
    return true;
  }
}
