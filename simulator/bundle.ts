import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { toPem } from '../attestation/snp/certificate.js';
import type { GuestPolicy } from '../attestation/snp/fields.js';
import { PRODUCTS, type Product } from '../attestation/snp/product.js';
import { parseReport } from '../attestation/snp/report.js';
import type { Tcb } from '../attestation/snp/tcb.js';
import { type SimulatedRoots, createSimulatedRoots, simulatedRootsPem } from './amd-root.js';
import type { SignerKind } from './endorsement-certificate.js';
import { type ExtendedReport, SimulatedFirmware } from './firmware.js';
import { CA_ROLES, DEFAULT_KEY_BITS, FIXTURE_KEY_BITS } from './root-keys.js';
import { type SimSeed, seedMaterial, seededBytes } from './seed.js';

export interface SimEvidenceOptions {
  /** Default Genoa. */
  readonly product?: Product;
  readonly version?: number;
  readonly policy?: bigint | Partial<GuestPolicy>;
  readonly measurement?: Uint8Array;
  /** Up to 64 bytes (default: random, or seed-derived). */
  readonly reportData?: Uint8Array;
  readonly hostData?: Uint8Array;
  readonly signer?: SignerKind;
  /** CURRENT_TCB = REPORTED_TCB = COMMITTED_TCB = LAUNCH_TCB, over the product's defaults. */
  readonly tcb?: Partial<Tcb>;
  readonly chipId?: Uint8Array;
  readonly vmpl?: number;
  readonly seed?: SimSeed;
  /** Fresh RSA key size when not seeded (default 4096). */
  readonly keyBits?: number;
  /** Reuse roots made earlier (their seed then decides determinism of the certificates). */
  readonly roots?: SimulatedRoots;
  readonly onProgress?: (progress: SimProgress) => void;
}

export interface SimProgress {
  readonly done: number;
  readonly total: number;
  readonly message: string;
}

/** What `writeSimEvidence` made; also written as evidence.json (with file names relative to the directory). */
export interface SimEvidenceSummary {
  readonly simulated: true;
  readonly product: Product;
  readonly version: number;
  readonly signer: SignerKind;
  readonly seeded: boolean;
  readonly keyBits: number;
  readonly vmpl: number;
  readonly policy: string;
  readonly measurement: string;
  readonly reportData: string;
  readonly hostData: string;
  readonly chipId: string;
  readonly reportedTcb: Tcb;
  /** Absolute paths of the files written. */
  readonly files: SimEvidenceFiles;
}

export interface SimEvidenceFiles {
  readonly report: string;
  /** vcek.pem or vlek.pem. */
  readonly endorsement: string;
  /** ASK (or ASVK) then ARK. */
  readonly chain: string;
  /** Every product's simulated ARK, ASK and ASVK. */
  readonly roots: string;
  readonly certTable: string;
  readonly evidence: string;
}

async function rootsFor(options: SimEvidenceOptions, progress: (message: string) => void): Promise<SimulatedRoots> {
  if (options.roots) return options.roots;
  const seeded = options.seed !== undefined;
  progress(seeded ? `loading the SIMULATED fixture roots (RSA-${FIXTURE_KEY_BITS})` : `generating SIMULATED AMD roots (RSA-${options.keyBits ?? DEFAULT_KEY_BITS})`);
  return createSimulatedRoots({
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.keyBits === undefined ? {} : { keyBits: options.keyBits }),
    onKey: (product, role) => progress(`generated ${role.toUpperCase()}-${product} key`),
  });
}

/**
 * Makes one piece of simulated evidence and writes it to `outDir`: report.bin, vcek.pem or vlek.pem,
 * chain.pem, roots.pem (load with trustAnchorsFromPem(..., { simulated: true })), certs.bin (certificate
 * table) and evidence.json.
 */
export async function writeSimEvidence(outDir: string, options: SimEvidenceOptions = {}): Promise<SimEvidenceSummary> {
  const total = options.roots || options.seed !== undefined ? 3 : PRODUCTS.length * CA_ROLES.length + 3;
  let done = 0;
  const progress = (message: string): void => options.onProgress?.({ done: done++, total, message });
  const roots = await rootsFor(options, progress);
  const product = options.product ?? 'Genoa';
  const root = roots[product];
  const seed = seedMaterial(options.seed) ?? root.seed;
  progress(`signing a ${product} report`);
  const firmware = new SimulatedFirmware({
    root,
    ...(options.version === undefined ? {} : { version: options.version }),
    ...(options.signer === undefined ? {} : { signer: options.signer }),
    ...(options.tcb === undefined ? {} : { tcb: options.tcb }),
    ...(options.chipId === undefined ? {} : { chipId: options.chipId }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    guest: {
      ...(options.policy === undefined ? {} : { policy: options.policy }),
      ...(options.measurement === undefined ? {} : { measurement: options.measurement }),
      ...(options.hostData === undefined ? {} : { hostData: options.hostData }),
    },
  });
  const reportData = options.reportData ?? seededBytes(seed, 'report-data', 64);
  const vmpl = options.vmpl ?? 0;
  const extended = firmware.getExtendedReport(reportData, vmpl);
  progress(`writing ${outDir}`);
  const files = await writeFiles(resolve(outDir), firmware, extended, simulatedRootsPem(roots));
  const summary = describe(firmware, extended.report, { seeded: seed !== null, vmpl, files });
  await writeFile(files.evidence, `${JSON.stringify({ ...summary, files: relativeNames(firmware.signer) }, null, 2)}\n`);
  options.onProgress?.({ done: total, total, message: 'done' });
  return summary;
}

function relativeNames(signer: SignerKind): Omit<SimEvidenceFiles, 'evidence'> & { evidence: string } {
  return { report: 'report.bin', endorsement: `${signer.toLowerCase()}.pem`, chain: 'chain.pem', roots: 'roots.pem', certTable: 'certs.bin', evidence: 'evidence.json' };
}

async function writeFiles(dir: string, fw: SimulatedFirmware, x: ExtendedReport, rootsPem: string): Promise<SimEvidenceFiles> {
  const names = relativeNames(fw.signer);
  const files: SimEvidenceFiles = {
    report: join(dir, names.report),
    endorsement: join(dir, names.endorsement),
    chain: join(dir, names.chain),
    roots: join(dir, names.roots),
    certTable: join(dir, names.certTable),
    evidence: join(dir, names.evidence),
  };
  await mkdir(dir, { recursive: true });
  await writeFile(files.report, x.report);
  await writeFile(files.endorsement, toPem(x.endorsement));
  await writeFile(files.chain, toPem(x.intermediate) + toPem(x.ark));
  await writeFile(files.roots, rootsPem);
  await writeFile(files.certTable, x.certTable);
  return files;
}

function describe(fw: SimulatedFirmware, report: Buffer, extra: { seeded: boolean; vmpl: number; files: SimEvidenceFiles }): SimEvidenceSummary {
  const parsed = parseReport(report);
  return {
    simulated: true,
    product: fw.product,
    version: fw.version,
    signer: fw.signer,
    seeded: extra.seeded,
    keyBits: fw.root.keyBits,
    vmpl: extra.vmpl,
    policy: `0x${parsed.policy.toString(16)}`,
    measurement: parsed.measurement.toString('hex'),
    reportData: parsed.reportData.toString('hex'),
    hostData: parsed.hostData.toString('hex'),
    chipId: parsed.chipId.toString('hex'),
    reportedTcb: fw.tcb.reported,
    files: extra.files,
  };
}
