import type { Dirent } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { KeyError } from '../errors.js';

/** A regular file of a model: its manifest name (POSIX, relative to the model root) and where it is. */
export interface ModelFile {
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

export interface WalkOptions {
  /** Paths relative to the model root (or absolute inside it); a directory ignores everything under it. */
  readonly ignorePaths?: readonly string[];
  /** Follow symbolic links (the reference refuses them unless asked; so do we). */
  readonly allowSymlinks?: boolean;
}

/** Symlinked directories are followed at most this deep, which also stops link cycles. */
const MAX_DEPTH = 64;

/**
 * Lists the files of a model. A single file is named "." as the reference names it; a directory yields
 * every regular file under it except the ignored ones. Unsorted: the manifest sorts.
 */
export async function listModelFiles(modelPath: string, options: WalkOptions = {}): Promise<ModelFile[]> {
  const st = await lstat(modelPath).catch((cause: unknown) => {
    throw new KeyError('ERR_MODEL_NOT_FOUND', `model path ${modelPath} cannot be read: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, path: modelPath });
  });
  if (st.isFile()) return [{ name: '.', path: modelPath, size: st.size }];
  if (st.isSymbolicLink()) throw new KeyError('ERR_MODEL_SYMLINK', `model path ${modelPath} is a symbolic link`, { path: modelPath });
  if (!st.isDirectory()) throw new KeyError('ERR_MODEL_NOT_FOUND', `model path ${modelPath} is neither a file nor a directory`, { path: modelPath });
  const ignore = normalizeIgnorePaths(modelPath, options.ignorePaths ?? []);
  const out: ModelFile[] = [];
  await walk(modelPath, '', ignore, Boolean(options.allowSymlinks), out, 0);
  return out;
}

/** Turns ignore paths into POSIX paths relative to the model root, without "./" or a trailing "/". */
export function normalizeIgnorePaths(modelRoot: string, paths: readonly string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const rel = isAbsolute(p) ? relative(modelRoot, p) : p;
    const posix = rel.split(sep).join('/').split('/').filter((x) => x !== '' && x !== '.').join('/');
    if (posix !== '' && !posix.startsWith('../') && posix !== '..') out.add(posix);
  }
  return [...out];
}

/** True when `name` is an ignored path or lies under one. */
export function isIgnored(name: string, ignore: readonly string[]): boolean {
  return ignore.some((ig) => name === ig || name.startsWith(`${ig}/`));
}

async function walk(root: string, prefix: string, ignore: readonly string[], allowSymlinks: boolean, out: ModelFile[], depth: number): Promise<void> {
  if (depth > MAX_DEPTH) throw new KeyError('ERR_MODEL_SYMLINK', `model tree under ${root} is deeper than ${MAX_DEPTH} levels (symlink loop?)`, { path: root });
  const dir = prefix === '' ? root : join(root, prefix);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new KeyError('ERR_MODEL_UNREADABLE', `cannot list ${dir}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, path: dir });
  }
  for (const e of entries) {
    const name = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (isIgnored(name, ignore)) continue;
    await visit(root, name, e, ignore, allowSymlinks, out, depth);
  }
}

async function visit(root: string, name: string, e: Dirent, ignore: readonly string[], allowSymlinks: boolean, out: ModelFile[], depth: number): Promise<void> {
  const path = join(root, name);
  if (e.isSymbolicLink()) {
    if (!allowSymlinks) throw new KeyError('ERR_MODEL_SYMLINK', `${name} is a symbolic link; symlinks are not allowed in a model`, { path: name });
    const target = await stat(path).catch((cause: unknown) => {
      throw new KeyError('ERR_MODEL_UNREADABLE', `symbolic link ${name} is dangling`, { cause, path: name });
    });
    if (target.isDirectory()) await walk(root, name, ignore, allowSymlinks, out, depth + 1);
    else if (target.isFile()) out.push({ name, path, size: target.size });
    return;
  }
  if (e.isDirectory()) return walk(root, name, ignore, allowSymlinks, out, depth + 1);
  if (!e.isFile()) throw new KeyError('ERR_MODEL_UNREADABLE', `${name} is not a regular file`, { path: name });
  const st = await stat(path);
  out.push({ name, path, size: st.size });
}
