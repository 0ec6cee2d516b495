import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Product, parseProduct } from '../../attestation/snp/product.js';
import { type TrustStore, amdTrustStore, trustAnchorsFromPem } from '../../attestation/snp/trust.js';
import { type CliIo, UsageError } from './io.js';

/** Flags shared by the commands that read evidence: each turns a bad value into a usage error (exit 2). */
export function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError('ERR_USAGE', `--now "${value}" is not an ISO 8601 time (e.g. 2026-01-31T12:00:00Z)`);
  return d;
}

export function parseProductFlag(value: string): Product {
  try {
    return parseProduct(value);
  } catch (e) {
    throw new UsageError('ERR_USAGE', `--product: ${(e as Error).message}`);
  }
}

export async function readInput(io: CliIo, file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(resolve(io.cwd, file));
  } catch (cause) {
    throw new UsageError('ERR_IO', `cannot read ${what} file "${file}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
}

/** The pinned AMD roots, plus the simulator's when the user names them explicitly (verdicts are then marked simulated). */
export async function buildTrust(io: CliIo, simRoots: string | undefined): Promise<TrustStore> {
  if (!simRoots) return amdTrustStore();
  const pem = (await readInput(io, simRoots, 'simulated roots')).toString('utf8');
  try {
    return [...amdTrustStore(), ...trustAnchorsFromPem(pem, { simulated: true })];
  } catch (e) {
    throw new UsageError('ERR_USAGE', `--sim-roots: ${(e as Error).message}`, { cause: e });
  }
}
