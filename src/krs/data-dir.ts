import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KrsStartupError } from './errors.js';

/** Creates the data directory (0700: it holds private keys) when missing. */
export async function ensureDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new KrsStartupError('ERR_DATA_DIR', `cannot create data directory "${dir}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
}

/**
 * Writes a private file atomically: a 0600 temp file in the same directory, fsync, then rename over the
 * target (`replace`) or hard-link to it (`create`: fails with EEXIST when another process got there first,
 * so two replicas starting on one data directory never overwrite each other's key).
 * Returns false when `create` lost that race.
 */
export async function writePrivateFileAtomic(path: string, data: Uint8Array | string, mode: 'create' | 'replace'): Promise<boolean> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  let renamed = false;
  try {
    if (mode === 'replace') {
      await rename(tmp, path);
      renamed = true;
      return true;
    }
    await link(tmp, path);
    return true;
  } catch (e) {
    if (mode === 'create' && (e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    if (!renamed) await rm(tmp, { force: true });
    await syncDir(dirname(path));
  }
}

/** Reads a private file, or null when it does not exist. Refuses one that group or others can read. */
export async function readPrivateFile(path: string, what: KrsStartupError['code']): Promise<Buffer | null> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new KrsStartupError(what, `cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { cause: e });
  }
  if ((mode & 0o077) !== 0) {
    throw new KrsStartupError(what, `"${path}" is readable by group or others (mode ${(mode & 0o777).toString(8)}); it holds secret keys: chmod 600 it`);
  }
  return readFile(path);
}

/** The rename is durable only once the directory entry is; not every platform can fsync a directory. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: some file systems refuse fsync on a directory.
  }
}
