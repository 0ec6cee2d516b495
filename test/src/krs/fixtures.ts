import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { toPem } from '../../../attestation/snp/certificate.js';
import type { EndorsementFetcher } from '../../../attestation/snp/endorsements.js';
import type { Product } from '../../../attestation/snp/product.js';
import { type TrustStore, trustAnchorsFromPem } from '../../../attestation/snp/trust.js';
import { type SimulatedRoots, SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../../simulator/index.js';
import { buildApp } from '../../../src/krs/app.js';
import { composeKrs } from '../../../src/krs/compose.js';
import { type KrsConfigInput, resolveKrsConfig } from '../../../src/krs/config.js';
import { createLogger } from '../../../src/krs/logging.js';
import type { ChallengeService } from '../../../src/krs/nonce.js';
import type { SigningKeyStore } from '../../../src/krs/signing-keys.js';

export const TEST_SEED = 'zt4ai krs tests';
const roots = new Map<string, Promise<SimulatedRoots>>();

/** Seeded (deterministic, fast: committed fixture keys) simulated roots, one set per seed. */
export function simRoots(seed: string = TEST_SEED): Promise<SimulatedRoots> {
  let r = roots.get(seed);
  if (!r) {
    r = createSimulatedRoots({ seed });
    roots.set(seed, r);
  }
  return r;
}

export async function simAnchors(): Promise<TrustStore> {
  return trustAnchorsFromPem(simulatedRootsPem(await simRoots()), { simulated: true });
}

export const b64u = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');
export const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

export interface EvidenceOptions {
  /** The runtime data: an object (dataType JSON) or bytes (Binary). Default {keys: []}. */
  readonly runtime?: Record<string, unknown> | Buffer;
  /** Default: SHA-256 of the runtime data, then 32 zero bytes. */
  readonly reportData?: Buffer;
  readonly initTime?: Record<string, unknown>;
  /** Default: SHA-256 of initTime when given, else zero. */
  readonly hostData?: Buffer;
  readonly product?: Product;
  readonly nonce?: string | number;
  /** Pad base64url fields with "=" like Go's URLEncoding (the Azure sidecar). */
  readonly padded?: boolean;
  /** Changes the signed report bytes after signing. */
  readonly tamperReport?: (report: Buffer) => void;
  /** Send only the ASK and ARK (a KDS fetch must supply the VCEK). */
  readonly omitVcek?: boolean;
  /** Seed of the simulated roots that sign (default TEST_SEED). */
  readonly seed?: string;
}

/** An MAA SevSnpVm request body carrying simulated evidence. */
export async function simulatedRequest(o: EvidenceOptions = {}): Promise<Record<string, unknown>> {
  const root = (await simRoots(o.seed))[o.product ?? 'Genoa'];
  const runtime = o.runtime ?? { keys: [] };
  const runtimeBytes = Buffer.isBuffer(runtime) ? runtime : Buffer.from(JSON.stringify(runtime));
  const initBytes = o.initTime ? Buffer.from(JSON.stringify(o.initTime)) : null;
  const hostData = o.hostData ?? (initBytes ? sha256(initBytes) : undefined);
  const fw = new SimulatedFirmware({ root, ...(hostData ? { guest: { hostData } } : {}) });
  const x = fw.getExtendedReport(o.reportData ?? Buffer.concat([sha256(runtimeBytes), Buffer.alloc(32)]));
  const enc = (b: Uint8Array | string): string => (o.padded ? Buffer.from(b).toString('base64').replace(/\+/g, '-').replace(/\//g, '_') : b64u(b));
  const report = Buffer.from(x.report);
  o.tamperReport?.(report);
  const chain = (o.omitVcek ? '' : toPem(x.endorsement)) + toPem(x.intermediate) + toPem(x.ark);
  const inner = JSON.stringify({ SnpReport: enc(report), VcekCertChain: enc(chain) });
  return {
    report: enc(inner),
    runtimeData: { data: enc(runtimeBytes), dataType: Buffer.isBuffer(runtime) ? 'Binary' : 'JSON' },
    ...(initBytes ? { initTimeData: { data: enc(initBytes), dataType: 'JSON' } } : {}),
    ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
  };
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly dataDir: string;
  readonly signingKeys: SigningKeyStore;
  readonly challenges: ChallengeService;
  readonly logs: string[];
  readonly issuer: string;
  close(): Promise<void>;
}

export const ISSUER = 'https://krs.test.example';
const dirs: string[] = [];

export function tempDir(label = 'krs'): string {
  const dir = mkdtempSync(join(tmpdir(), `zt4ai-${label}-`));
  dirs.push(dir);
  return dir;
}

/** Removes every temp directory made by tempDir (call in afterAll). */
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface TestAppOptions {
  readonly config?: KrsConfigInput;
  readonly dataDir?: string;
  /** Pass the simulated roots as untrusted diagnosis anchors (default true). */
  readonly diagnose?: boolean;
  readonly clock?: () => Date;
  readonly endorsements?: EndorsementFetcher;
}

/** A KRS app on a temp data directory, with logs captured as JSON lines. Never listens. */
export async function testApp(o: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = o.dataDir ?? tempDir();
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const config = resolveKrsConfig({ dataDir, signingKeyBits: 2048, rateLimit: false, ...o.config });
  const pem = simulatedRootsPem(await simRoots());
  const deps = await composeKrs(config, {
    simulatedRootsPem: config.trustSimulator || o.diagnose !== false ? [pem] : [],
    logger: createLogger({ level: 'info', stream }),
    ...(o.clock ? { clock: o.clock } : {}),
    ...(o.endorsements ? { endorsements: o.endorsements } : {}),
  });
  const app = await buildApp({ ...deps, issuer: config.issuer ?? ISSUER });
  return { app, dataDir, signingKeys: deps.signingKeys, challenges: deps.challenges, logs, issuer: config.issuer ?? ISSUER, close: () => app.close() };
}

export const ATTEST_URL = '/attest/SevSnpVm?api-version=2022-08-01';

/** The error body of a rejection. */
export interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ code: string; message: string }> };
}
