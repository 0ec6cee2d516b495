import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from './io.js';

/**
 * Writes via a temporary file in the same directory so readers never see half a policy. Without `force` the
 * final step is link(), which fails if the target exists, so an existing policy is never replaced by accident.
 */
export async function writeAtomically(path: string, text: string, force: boolean): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, text, { flag: 'wx', mode: 0o644 });
    if (force) await rename(tmp, path);
    else await linkExclusive(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError('ERR_OUT_EXISTS', `${path} already exists; pass --force to replace it`, { cause: e });
    throw new UsageError('ERR_IO', `cannot write ${path}: ${code ?? (e as Error).message}`, { cause: e });
  } finally {
    await rm(tmp, { force: true });
  }
}

/** link() where the file system supports hard links, else an exclusive copy (still never replaces). */
async function linkExclusive(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw e;
    await copyFile(from, to, constants.COPYFILE_EXCL);
  }
}
