import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Real vectors live in ../shared beside the repo and are never copied in (DEVELOPERS.md). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DIR = resolve(REPO_ROOT, '../shared');
export const SNP_VECTORS = resolve(SHARED_DIR, 'vectors/snp');
export const HAS_SHARED = existsSync(resolve(SNP_VECTORS, 'EXPECTED.json'));

if (!HAS_SHARED) {
  console.warn(`[zt4ai tests] ${SNP_VECTORS}/EXPECTED.json not found: conformance tests over real AMD vectors are skipped. Put the shared/ folder beside the repo to run them.`);
}

export function sharedFile(...parts: string[]): Buffer {
  return readFileSync(resolve(SHARED_DIR, ...parts));
}

export function snpVector(path: string): Buffer {
  return readFileSync(resolve(SNP_VECTORS, path));
}
