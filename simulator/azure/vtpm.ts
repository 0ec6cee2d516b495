import { type KeyObject, createHash, createPublicKey, randomUUID, sign } from 'node:crypto';
import { HASH_LENGTH, type HclHashName } from '../../attestation/azure/hcl-layout.js';
import { pcrDigest } from '../../attestation/azure/tpm-pcrs.js';
import type { SimulatedFirmware } from '../firmware.js';
import { type SeedMaterial, type SimSeed, seedMaterial, seededBytes } from '../seed.js';
import { encodeHclReport } from './hcl-writer.js';
import { SimulatedPcrBank, allPcrs } from './pcr-bank.js';
import { type SimVmConfiguration, encodeRuntimeClaims } from './runtime-claims-writer.js';
import { encodeQuoteAttest, encodeRsassaSignature, rsaAkName } from './tpm-writer.js';
import { type VtpmKeys, fixtureVtpmKeys, generateVtpmKeys } from './vtpm-keys.js';

export interface SimulatedVtpmOptions {
  /** The simulated SEV-SNP firmware the paravisor asks for the report. */
  readonly firmware: SimulatedFirmware;
  /**
   * Deterministic keys, vmUniqueId, PCRs and clock; defaults to the firmware root's seed. HCL reports are
   * byte-identical only if the firmware is seeded too (its report signatures are then deterministic).
   */
  readonly seed?: SimSeed;
  /** Bring your own AK/EK private keys (default: fixture keys when seeded, fresh RSA-2048 otherwise). */
  readonly keys?: VtpmKeys;
  readonly vmConfiguration?: Partial<SimVmConfiguration>;
  /** Initial contents of NV index 0x01400002 (default 64 zero bytes). */
  readonly userData?: Uint8Array;
  /** HCL header version (default 2). */
  readonly hclVersion?: number;
  readonly hashType?: HclHashName;
  /** The NV index size the report is zero-padded to (default 2600, as Azure's). */
  readonly nvIndexSize?: number;
  /** TPMS_ATTEST.firmwareVersion (default that of Azure's vTPM in trustee's real quote). */
  readonly tpmFirmwareVersion?: bigint;
}

/** A quote as `tpm2_quote` would hand it over, plus the PCR values it covers. */
export interface SimulatedQuote {
  /** TPMS_ATTEST. */
  readonly message: Buffer;
  /** TPMT_SIGNATURE, RSASSA-PKCS1-v1_5 with SHA-256 by the AK. */
  readonly signature: Buffer;
  readonly nonce: Buffer;
  readonly pcrs: ReadonlyMap<number, Buffer>;
  /** `{message, signature}` in hex: the quote file `zt4ai evidence verify --quote` reads. */
  toJSON(): { message: string; signature: string };
  /** `{index: hex}`: the PCR file `zt4ai evidence verify --pcrs` reads. */
  pcrsJson(): Record<string, string>;
}

const NV_INDEX_SIZE = 2600;
const AZURE_VTPM_FIRMWARE = 0x2020031200120003n;
const QUOTE_INTERVAL_MS = 1000n;

/**
 * A simulated Azure vTPM with its paravisor: NV index 0x01400001 holds an HCL report around a simulated
 * SNP report whose REPORT_DATA is SHA-256 of the runtime claims (AK "HCLAkPub", EK "HCLEkPub",
 * vm-configuration, user-data); the AK (0x81000003) signs TPM2_Quote over a PCR bank. SIMULATED: it
 * verifies only against simulated AMD roots.
 */
export class SimulatedVtpm {
  readonly firmware: SimulatedFirmware;
  readonly pcrs: SimulatedPcrBank;
  /** The AK private key: with it anyone can forge quotes, which is what simulated evidence is for. */
  readonly akPrivateKey: KeyObject;
  readonly ekPrivateKey: KeyObject;
  readonly vmConfiguration: SimVmConfiguration;
  private readonly options: SimulatedVtpmOptions;
  private readonly akName: Buffer;
  private userData: Buffer;
  private clock: bigint;
  private readonly resetCount: number;

  private constructor(options: SimulatedVtpmOptions, keys: VtpmKeys, seed: SeedMaterial) {
    this.options = options;
    this.firmware = options.firmware;
    this.akPrivateKey = keys.ak;
    this.ekPrivateKey = keys.ek;
    this.akName = rsaAkName(createPublicKey(keys.ak));
    this.pcrs = new SimulatedPcrBank(seed);
    this.vmConfiguration = {
      consoleEnabled: true,
      secureBoot: true,
      tpmEnabled: true,
      vmUniqueId: seed ? guidFrom(seededBytes(seed, 'vtpm/vm-unique-id', 16)) : randomUUID().toUpperCase(),
      ...options.vmConfiguration,
    };
    this.userData = Buffer.alloc(64);
    if (options.userData) this.writeUserData(options.userData);
    this.clock = BigInt(seededBytes(seed, 'vtpm/clock', 4).readUInt32BE(0));
    this.resetCount = 1 + (seededBytes(seed, 'vtpm/reset-count', 1)[0]! % 8);
  }

  /** Seeded vTPMs use the committed fixture keys; unseeded ones generate RSA-2048 keys. */
  static async create(options: SimulatedVtpmOptions): Promise<SimulatedVtpm> {
    const seed = options.seed === undefined ? options.firmware.root.seed : seedMaterial(options.seed);
    const keys = options.keys ?? (seed ? fixtureVtpmKeys() : await generateVtpmKeys());
    return new SimulatedVtpm(options, keys, seed);
  }

  /** Writes NV index 0x01400002 (up to 64 bytes, zero-padded): the next HCL report carries it as user-data. */
  writeUserData(data: Uint8Array): void {
    if (data.length > 64) throw new RangeError(`user data is ${data.length} bytes; the NV index holds 64`);
    this.userData = Buffer.alloc(64);
    this.userData.set(data);
  }

  /** The runtime-claims JSON bytes the next HCL report embeds. */
  runtimeClaims(): Buffer {
    const ak = createPublicKey(this.akPrivateKey);
    const ek = createPublicKey(this.ekPrivateKey);
    return encodeRuntimeClaims({ ak, ek, vmConfiguration: this.vmConfiguration, userData: this.userData });
  }

  /**
   * Reads NV index 0x01400001: the paravisor hashes the runtime claims into REPORT_DATA, asks the firmware
   * for a report at VMPL 0 (`vmpl` exists only to make refusable evidence) and wraps it.
   */
  hclReport(options: { vmpl?: number } = {}): Buffer {
    const claims = this.runtimeClaims();
    const hashType = this.options.hashType ?? 'sha256';
    const digest = createHash(hashType).update(claims).digest().subarray(0, HASH_LENGTH[hashType]);
    const snpReport = this.firmware.getReport(digest, options.vmpl ?? 0);
    return encodeHclReport({
      snpReport,
      runtimeClaims: claims,
      version: this.options.hclVersion ?? 2,
      hashType,
      padTo: this.options.nvIndexSize ?? NV_INDEX_SIZE,
    });
  }

  /** TPM2_Quote with the AK (RSASSA/SHA-256) over the SHA-256 bank's `pcrIndices`, qualified by `nonce`. */
  quote(nonce: Uint8Array, pcrIndices: readonly number[] = allPcrs()): SimulatedQuote {
    if (nonce.length > 64) throw new RangeError(`nonce is ${nonce.length} bytes; TPM2B_DATA holds at most 64`);
    const indices = [...new Set(pcrIndices)].sort((a, b) => a - b);
    const values = this.pcrs.readAll(indices);
    const digest = pcrDigest('sha256', indices.map((index) => ({ hash: 'sha256', index, value: values.get(index)! })));
    this.clock += QUOTE_INTERVAL_MS;
    const message = encodeQuoteAttest({
      qualifiedSigner: this.akName,
      extraData: nonce,
      clockInfo: { clock: this.clock, resetCount: this.resetCount, restartCount: 0, safe: true },
      firmwareVersion: this.options.tpmFirmwareVersion ?? AZURE_VTPM_FIRMWARE,
      selection: [{ hash: 'sha256', pcrs: indices }],
      pcrDigest: digest,
    });
    const signature = encodeRsassaSignature('sha256', sign('sha256', message, this.akPrivateKey));
    return quoteResult(message, signature, Buffer.from(nonce), values);
  }
}

function quoteResult(message: Buffer, signature: Buffer, nonce: Buffer, pcrs: Map<number, Buffer>): SimulatedQuote {
  return {
    message,
    signature,
    nonce,
    pcrs,
    toJSON: () => ({ message: message.toString('hex'), signature: signature.toString('hex') }),
    pcrsJson: () => Object.fromEntries([...pcrs].map(([i, v]) => [String(i), v.toString('hex')])),
  };
}

/** 16 bytes as an upper-case GUID string, the form of vmUniqueId. */
function guidFrom(b: Buffer): string {
  const h = b.toString('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
