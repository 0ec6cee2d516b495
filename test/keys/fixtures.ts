import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SHARED_DIR } from '../helpers/shared.js';

/** Upstream OMS vectors in ../shared (read-only: tamper tests work on copies). */
export const MS_VECTORS = resolve(SHARED_DIR, 'vectors/model-signing');
export const HAS_MS_VECTORS = existsSync(resolve(MS_VECTORS, 'PROVENANCE.md'));
export const msFile = (...p: string[]): string => resolve(MS_VECTORS, ...p);
export const msText = (...p: string[]): string => readFileSync(msFile(...p), 'utf8');

const made: string[] = [];

/** A fresh temp directory, removed by `cleanupTemp` (call it in afterAll). */
export function tempDir(prefix = 'zt4ai-keys-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function cleanupTemp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Writes files under `root` (paths relative, parents created). */
export function writeTree(root: string, files: Record<string, string | Buffer>): string {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  return root;
}

/** Copies a signed vector folder into a writable temp dir. */
export function copyVector(name: string): string {
  const d = join(tempDir(), name);
  cpSync(msFile('signed-models', name), d, { recursive: true });
  return d;
}

export function ecKeyPair(curve: 'P-256' | 'P-384' = 'P-256'): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve === 'P-256' ? 'prime256v1' : 'secp384r1' });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Deterministic bytes (a counter pattern), for content that must differ between files. */
export function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

/** A small multi-file model with nested directories and an empty file. */
export function sampleModel(root: string): string {
  return writeTree(root, {
    'config.json': '{"arch":"tiny"}',
    'weights/part-0.bin': pattern(70_000, 1),
    'weights/part-1.bin': pattern(133_123, 2),
    'tokenizer/vocab.txt': 'a\nb\nc\n',
    'empty.bin': '',
  });
}
