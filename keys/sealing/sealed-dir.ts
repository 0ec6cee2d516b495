import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { KeyError } from '../errors.js';
import { parseBundle } from '../signing/bundle.js';
import type { Manifest } from '../signing/oms-types.js';
import { parseStatement } from '../signing/statement.js';
import { SEALED_SUFFIX, SIGNATURE_FILE, UNSIGNED_MANIFEST_FILE } from './format.js';

/** The OMS statement a sealed model carries, and how it is carried. */
export interface SealedStatement {
  readonly manifest: Manifest;
  readonly file: typeof SIGNATURE_FILE | typeof UNSIGNED_MANIFEST_FILE;
  readonly signed: boolean;
  /** SHA-256 of model.sig, which every container of a signed model records. */
  readonly bundleSha256?: string;
}

/** Reads `model.sig` (signed) or `model.manifest.json` (unsigned statement) of a sealed model. */
export async function loadSealedStatement(dir: string): Promise<SealedStatement> {
  const sig = await readFile(join(dir, SIGNATURE_FILE)).catch(() => undefined);
  const raw = sig ?? (await readFile(join(dir, UNSIGNED_MANIFEST_FILE)).catch(() => undefined));
  if (!raw) throw new KeyError('ERR_SEAL_MANIFEST', `${dir} has neither ${SIGNATURE_FILE} nor ${UNSIGNED_MANIFEST_FILE}`);
  try {
    const payload = sig ? parseBundle(sig).payload : raw;
    const st = parseStatement(payload);
    if (st.problems.length > 0) throw st.problems[0];
    if (st.manifest.serialization.method !== 'files') throw new KeyError('ERR_SEAL_MANIFEST', 'sealed models use the OMS files serialization, not shards');
    return sig
      ? { manifest: st.manifest, file: SIGNATURE_FILE, signed: true, bundleSha256: createHash('sha256').update(sig).digest('hex') }
      : { manifest: st.manifest, file: UNSIGNED_MANIFEST_FILE, signed: false };
  } catch (e) {
    if (e instanceof KeyError && e.code === 'ERR_SEAL_MANIFEST') throw e;
    throw new KeyError('ERR_SEAL_MANIFEST', `the statement of ${dir} is unusable: ${(e as Error).message}`, { cause: e });
  }
}

/** Container files under a sealed model: relative POSIX path -> absolute path. */
export async function listContainers(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || !e.name.endsWith(SEALED_SUFFIX)) continue;
      const abs = join(e.parentPath ?? e.path, e.name);
      out.set(relative(dir, abs).split(sep).join('/'), abs);
    }
  } catch (cause) {
    throw new KeyError('ERR_SEAL_IO', `cannot list sealed model ${dir}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause, path: dir });
  }
  return out;
}

/** Where the container of a manifest file lives: `<name>.sealed`; a single-file model ("."): `<model>.sealed`. */
export function containerName(name: string, modelName: string): string {
  return `${name === '.' ? modelName : name}${SEALED_SUFFIX}`;
}
