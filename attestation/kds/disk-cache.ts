import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** A cached response body and when it was fetched (CRL freshness needs the time). */
export interface CacheEntry {
  readonly bytes: Buffer;
  readonly fetchedAt: Date;
}

/**
 * One directory per KDS host, so a test server or a mirror can never poison the entries of another. Files are
 * replaced atomically (temp file in the same directory, fsync, rename): a crash leaves the old entry or the
 * new one, and a reader never sees half a file. CRLs are stored with their fetch time in a small JSON envelope.
 */
export class DiskCache {
  private readonly dir: string;

  constructor(
    root: string,
    host: string,
    private readonly progress: (message: string) => void,
  ) {
    this.dir = join(root, host.replace(/[^A-Za-z0-9.-]/g, '_'));
  }

  /** Null on a miss or on anything unreadable: the cache is an optimisation, never a reason to fail. */
  async read(name: string, maxBytes: number): Promise<CacheEntry | null> {
    const path = join(this.dir, name);
    try {
      const info = await stat(path);
      // Base64 in the JSON envelope is 4/3 of the body; anything larger was not written by us.
      if (!info.isFile() || info.size > maxBytes * 2) throw new Error('not a cache file of plausible size');
      const raw = await readFile(path);
      return name.endsWith('.json') ? fromEnvelope(raw) : { bytes: raw, fetchedAt: info.mtime };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.progress(`ignoring unreadable cache file ${path}: ${errorCode(e)}`);
      return null;
    }
  }

  async write(name: string, entry: CacheEntry): Promise<void> {
    const path = join(this.dir, name);
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(this.dir, { recursive: true });
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(name.endsWith('.json') ? toEnvelope(entry) : entry.bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      await syncDirectory(this.dir);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      this.progress(`could not write cache file ${path} (${errorCode(e)}); continuing without it`);
    }
  }
}

function toEnvelope(entry: CacheEntry): string {
  return `${JSON.stringify({ fetchedAt: entry.fetchedAt.toISOString(), der: entry.bytes.toString('base64') })}\n`;
}

function fromEnvelope(raw: Buffer): CacheEntry {
  const doc = JSON.parse(raw.toString('utf8')) as { fetchedAt?: unknown; der?: unknown };
  const fetchedAt = typeof doc.fetchedAt === 'string' ? new Date(doc.fetchedAt) : new Date(Number.NaN);
  if (Number.isNaN(fetchedAt.getTime()) || typeof doc.der !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(doc.der)) {
    throw new Error('malformed cache envelope');
  }
  return { bytes: Buffer.from(doc.der, 'base64'), fetchedAt };
}

/** Makes the rename durable; best effort, as some platforms cannot open directories. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Durability of the rename is a nicety; the entry is complete either way.
  }
}

/** The errno-style code of a failure, for progress messages. */
export function errorCode(e: unknown): string {
  if (!(e instanceof Error)) return 'unknown error';
  // DOMException (an aborted or timed-out signal) has a numeric code; its name says more.
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : e.name;
}
