import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { KeyError, isKeyError } from '../errors.js';
import { FORMAT_VERSION, chunkCount } from './format.js';
import { readContainerHeader } from './open-file.js';
import { listContainers, loadSealedStatement } from './sealed-dir.js';

/** What a container's header says. Never secrets: the wrapped key appears only as its size and hash. */
export interface ContainerInfo {
  readonly container: string;
  readonly name: string;
  readonly formatVersion: number;
  readonly kid: string;
  readonly wrap: string;
  readonly wrappedKeyBytes: number | null;
  readonly wrappedKeySha256: string | null;
  readonly chunkSize: number;
  readonly plaintextSize: number;
  readonly chunks: number;
  readonly omsRootDigest: string;
  readonly omsBundleSha256: string | null;
}

export interface SealedModelInfo {
  readonly statement: { readonly file: string; readonly signed: boolean; readonly rootDigest: string; readonly modelName: string; readonly files: number } | null;
  readonly containers: readonly ContainerInfo[];
  /** Unreadable containers or statement; inspection goes on past them. */
  readonly problems: readonly KeyError[];
}

/** Reads the headers of a sealed model without any key. Nothing is authenticated: it is a description. */
export async function inspectSealedModel(sealedDir: string): Promise<SealedModelInfo> {
  const dir = resolve(sealedDir);
  const problems: KeyError[] = [];
  const st = await loadSealedStatement(dir).catch((e: unknown) => {
    problems.push(isKeyError(e) ? e : new KeyError('ERR_SEAL_MANIFEST', String(e)));
    return null;
  });
  const containers: ContainerInfo[] = [];
  for (const [rel, abs] of [...(await listContainers(dir))].sort(([a], [b]) => (a < b ? -1 : 1))) {
    try {
      containers.push(describe(rel, await readContainerHeader(abs)));
    } catch (e) {
      if (!isKeyError(e)) throw e;
      problems.push(new KeyError(e.code, `${rel}: ${e.message}`, { path: rel }));
    }
  }
  const statement = st ? { file: st.file, signed: st.signed, rootDigest: st.manifest.rootDigest, modelName: st.manifest.modelName, files: st.manifest.resources.length } : null;
  return { statement, containers, problems };
}

function describe(container: string, h: Awaited<ReturnType<typeof readContainerHeader>>): ContainerInfo {
  const w = h.meta.wrappedKey;
  return {
    container,
    name: h.meta.name,
    formatVersion: FORMAT_VERSION,
    kid: h.meta.kid,
    wrap: h.meta.wrap,
    wrappedKeyBytes: w ? w.length : null,
    wrappedKeySha256: w ? createHash('sha256').update(w).digest('hex') : null,
    chunkSize: h.chunkSize,
    plaintextSize: h.plaintextSize,
    chunks: chunkCount(h.plaintextSize, h.chunkSize),
    omsRootDigest: h.meta.omsRootDigest,
    omsBundleSha256: h.meta.omsBundleSha256 ?? null,
  };
}
