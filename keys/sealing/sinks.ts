import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Writable } from 'node:stream';
import { KeyError } from '../errors.js';

/**
 * Where authenticated plaintext goes, one sink per model file. `write` sees chunks in order, each already
 * authenticated by GCM; the whole file's OMS digest is only known at the end, so a sink must not publish
 * the file before `commit` (and must discard it on `abort`). The chunk buffer is reused after `write`
 * resolves: keep a copy if you need the bytes later.
 */
export interface PlaintextSink {
  write(chunk: Buffer): Promise<void>;
  commit(): Promise<void>;
  abort(reason: Error): Promise<void>;
}

/** Opens the sink of one file. */
export type SinkFactory = (file: { readonly name: string; readonly size: number }) => PlaintextSink | Promise<PlaintextSink>;

/**
 * Plaintext files under `outDir` (say a tmpfs mount): written to a hidden temporary name with mode 0600,
 * renamed into place on commit, removed on abort. Names must stay inside `outDir`.
 */
export function directorySink(outDir: string): SinkFactory {
  const root = resolve(outDir);
  return async ({ name }) => {
    const target = resolve(root, name);
    const rel = relative(root, target);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..') throw new KeyError('ERR_SEAL_OPTIONS', `file name ${name} would land outside ${outDir}`, { path: name });
    await mkdir(dirname(target), { recursive: true });
    const temp = join(dirname(target), `.${randomBytes(6).toString('hex')}.unsealing`);
    const fh = await open(temp, 'wx', 0o600).catch(ioError(temp));
    return fileSink(fh, temp, target);
  };
}

function fileSink(fh: FileHandle, temp: string, target: string): PlaintextSink {
  let closed = false;
  const close = async () => {
    if (!closed) await fh.close();
    closed = true;
  };
  return {
    write: async (chunk) => {
      await fh.write(chunk, 0, chunk.length).catch(ioError(temp));
    },
    commit: async () => {
      await close();
      await rename(temp, target).catch(ioError(target));
    },
    abort: async () => {
      await close();
      await rm(temp, { force: true });
    },
  };
}

/** Plaintext in memory: `files` holds each file once it is committed. */
export function memorySink(): { factory: SinkFactory; files: Map<string, Buffer> } {
  const files = new Map<string, Buffer>();
  const factory: SinkFactory = ({ name, size }) => {
    const buf = Buffer.alloc(size);
    let at = 0;
    return {
      write: async (chunk) => {
        if (at + chunk.length > size) throw new KeyError('ERR_SEAL_IO', `${name} is longer than its header says`, { path: name });
        at += chunk.copy(buf, at);
      },
      commit: async () => {
        files.set(name, buf);
      },
      abort: async () => {
        buf.fill(0);
      },
    };
  };
  return { factory, files };
}

/**
 * Plaintext to streams the caller opens (a pipe, a socket, a model loader). Each chunk is copied, because
 * a stream may keep a reference after its callback. `end()` on commit, `destroy(reason)` on abort.
 */
export function writableSink(openStream: (name: string) => Writable): SinkFactory {
  return ({ name }) => {
    const stream = openStream(name);
    return {
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          stream.write(Buffer.from(chunk), (e) => (e ? reject(new KeyError('ERR_SEAL_IO', `writing ${name}: ${e.message}`, { cause: e, path: name })) : resolve()));
        }),
      commit: () => new Promise<void>((resolve) => stream.end(resolve)),
      abort: async (reason) => {
        stream.destroy(reason);
      },
    };
  };
}

/** Verifies and drops the plaintext (integrity checks, benchmarks). */
export function discardSink(): SinkFactory {
  return () => ({ write: async () => {}, commit: async () => {}, abort: async () => {} });
}

function ioError(path: string): (cause: unknown) => never {
  return (cause) => {
    throw new KeyError('ERR_SEAL_IO', `cannot write ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, path });
  };
}
