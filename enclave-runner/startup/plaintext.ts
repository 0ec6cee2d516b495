import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type SinkFactory, directorySink, memorySink } from '../../keys/sealing/sinks.js';
import { RunnerError } from '../errors.js';

/** statfs(2) magic numbers of memory-backed file systems: plaintext must never reach a disk. */
const MEMORY_FS = new Set([0x01021994 /* tmpfs */, 0x858458f6 /* ramfs */]);
/** Written into every plaintext directory the runner makes, so a later run may remove a killed run's leftovers. */
export const MARKER = '.zt4ai-plaintext';
const DEFAULT_PARENT = '/dev/shm';
const DEFAULT_PREFIX = 'zt4ai-runner-';

/** Where unsealed plaintext lives, and how to get rid of it. */
export interface PlaintextStore {
  readonly kind: 'memory' | 'tmpfs';
  /** The tmpfs directory (tmpfs only). */
  readonly dir: string | null;
  readonly sink: SinkFactory;
  /** The bytes of one unsealed file (memory: the buffer itself, which wipe() zeroes). */
  read(name: string): Promise<Buffer>;
  /** Zeroes buffers / removes the directory. Idempotent. */
  wipe(): Promise<void>;
  /** The same, synchronously: for process exit hooks, where nothing asynchronous runs any more. */
  wipeSync(): void;
}

/** Plaintext in this process's memory: zeroed on wipe. */
export function memoryStore(): PlaintextStore {
  const { factory, files } = memorySink();
  const wipeSync = (): void => {
    for (const b of files.values()) b.fill(0);
    files.clear();
  };
  return {
    kind: 'memory',
    dir: null,
    sink: factory,
    read: async (name) => {
      const b = files.get(name);
      if (!b) throw new RunnerError('ERR_RUNNER_MODEL_LOAD', `the unsealed model has no file ${name}`);
      return b;
    },
    wipe: async () => wipeSync(),
    wipeSync,
  };
}

/**
 * Plaintext as 0600 files in a 0700 directory on tmpfs (for upstream servers that load from a path). The
 * directory must be on tmpfs/ramfs; one left by a killed run (it carries the marker) is removed first, a
 * foreign non-empty one is refused. Without `dir`, a fresh /dev/shm/zt4ai-runner-<pid>-<random>.
 */
export async function tmpfsStore(dir: string | null): Promise<PlaintextStore> {
  if (dir === null) await sweepDeadRuns(DEFAULT_PARENT);
  const target = dir ?? join(DEFAULT_PARENT, `${DEFAULT_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  await prepare(target);
  let gone = false;
  const wipeSync = (): void => {
    if (gone) return;
    rmSync(target, { recursive: true, force: true });
    gone = true;
  };
  return {
    kind: 'tmpfs',
    dir: target,
    sink: directorySink(target),
    read: (name) => readFile(join(target, ...name.split('/'))),
    wipe: async () => {
      if (gone) return;
      await rm(target, { recursive: true, force: true });
      gone = true;
    },
    wipeSync,
  };
}

async function prepare(target: string): Promise<void> {
  await requireMemoryFs(await nearestExisting(target));
  const entries = await readdir(target).catch(() => null);
  if (entries !== null && entries.length > 0) {
    if (!entries.includes(MARKER)) throw new RunnerError('ERR_RUNNER_UNSEAL_IO', `${target} exists and was not made by the runner: refusing to write plaintext into it`);
    // Left by a run that was killed before it could clean up.
    await rm(target, { recursive: true, force: true });
  }
  await mkdir(target, { recursive: true, mode: 0o700 });
  // Checked again on the directory itself: something may be mounted between the ancestor and it.
  await requireMemoryFs(target);
  await writeFile(join(target, MARKER), `${process.pid}\n`, { mode: 0o600 });
}

async function requireMemoryFs(path: string): Promise<void> {
  const fs = await statfs(path).catch((cause: NodeJS.ErrnoException) => {
    throw new RunnerError('ERR_RUNNER_UNSEAL_IO', `${path} is not usable for plaintext: ${cause.code ?? 'error'}`, { cause });
  });
  if (!MEMORY_FS.has(Number(fs.type))) throw new RunnerError('ERR_RUNNER_UNSEAL_IO', `${path} is not on tmpfs or ramfs: plaintext model files must never reach a disk`);
}

/** The directory itself, or its closest ancestor that exists (new directories land on the same file system). */
async function nearestExisting(path: string): Promise<string> {
  let p = path;
  while ((await stat(p).catch(() => null)) === null && dirname(p) !== p) p = dirname(p);
  return p;
}

/** Removes /dev/shm/zt4ai-runner-<pid>-* directories of processes that no longer exist. */
async function sweepDeadRuns(parent: string): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    const m = new RegExp(`^${DEFAULT_PREFIX}(\\d+)-[0-9a-f]+$`).exec(basename(name));
    if (!m || isAlive(Number(m[1]))) continue;
    const dir = join(parent, name);
    if ((await readdir(dir).catch(() => [] as string[])).includes(MARKER)) await rm(dir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
