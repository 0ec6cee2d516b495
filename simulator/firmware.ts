import { type GuestPolicy, type PlatformInfo, encodeKeyInfo, encodePolicy } from '../attestation/snp/fields.js';
import { MAX_VERSION, MIN_VERSION, SIZE } from '../attestation/snp/layout.js';
import type { Cpuid, Product } from '../attestation/snp/product.js';
import type { FirmwareVersion } from '../attestation/snp/report.js';
import { type Tcb, encodeTcb } from '../attestation/snp/tcb.js';
import type { Endorsement, SimulatedAmdRoot } from './amd-root.js';
import { CERT_TABLE_GUIDS, encodeCertTable } from './cert-table.js';
import { resolveChipId, resolveTcb } from './chip.js';
import { DEFAULT_CSP_ID, DEFAULT_MEASUREMENT, DEFAULT_POLICY, PRODUCT_PROFILES, defaultPlatformInfo } from './defaults.js';
import type { SignerKind } from './endorsement-certificate.js';
import { encodePlatformInfo } from './platform-info.js';
import { type ReportFields, encodeReport } from './report-writer.js';
import { signReport } from './report-signer.js';
import { type SimSeed, seedMaterial, seededBytes } from './seed.js';

/** What the hypervisor and the ID block fixed when the guest was launched. */
export interface GuestLaunchOptions {
  /** Guest policy as the u64 or as named bits (default 0x30000). */
  readonly policy?: bigint | Partial<GuestPolicy>;
  /** 48 bytes (default: SHA-384 of a fixed label, see DEFAULT_MEASUREMENT). */
  readonly measurement?: Uint8Array;
  /** 32 bytes (default zero). */
  readonly hostData?: Uint8Array;
  /** 16 bytes each (default zero). */
  readonly familyId?: Uint8Array;
  readonly imageId?: Uint8Array;
  readonly guestSvn?: number;
  /** 48 bytes each (default zero). */
  readonly idKeyDigest?: Uint8Array;
  readonly authorKeyDigest?: Uint8Array;
  /** KEY_INFO.AUTHOR_KEY_EN (default: true when authorKeyDigest is given). */
  readonly authorKeyEn?: boolean;
  /** 32 bytes (default: random per guest, or seed-derived). */
  readonly reportId?: Uint8Array;
  /** 32 bytes (default all 0xFF: no migration agent). */
  readonly reportIdMa?: Uint8Array;
}

export interface SimulatedFirmwareOptions {
  readonly root: SimulatedAmdRoot;
  /** 64 bytes, or 8 on Turin (default: random, or seed-derived). */
  readonly chipId?: Uint8Array;
  /** CURRENT_TCB over the product's defaults; also the default for the other three TCBs. */
  readonly tcb?: Partial<Tcb>;
  /** The TCB the signing key is derived from (and the VCEK/VLEK is issued for). */
  readonly reportedTcb?: Partial<Tcb>;
  readonly committedTcb?: Partial<Tcb>;
  readonly launchTcb?: Partial<Tcb>;
  /** Report VERSION 1..5 (default per product; v1 uses the v2 layout). */
  readonly version?: number;
  readonly firmwareVersion?: FirmwareVersion;
  readonly committedFirmwareVersion?: FirmwareVersion;
  readonly signer?: SignerKind;
  /** VLEK only (default "CN=zt4ai-sim"). */
  readonly cspId?: string;
  /** Zero CHIP_ID as a host with MASK_CHIP_ID does (default: true for VLEK-signed reports). */
  readonly maskChipId?: boolean;
  readonly platformInfo?: bigint | Partial<PlatformInfo>;
  /** CPUID family/model/stepping written into v3+ reports (default per product). */
  readonly cpuid?: Cpuid;
  /** v5 only (default 0). */
  readonly launchMitVector?: bigint;
  readonly currentMitVector?: bigint;
  readonly guest?: GuestLaunchOptions;
  /** Deterministic chip id, report id and signatures; defaults to the root's seed. */
  readonly seed?: SimSeed;
}

/** The report with the certificates a host serves alongside it (SNP extended guest request). */
export interface ExtendedReport {
  readonly report: Buffer;
  /** GUID-table form (snp-evidence.md §9.7), as configfs-tsm's auxblob carries it. */
  readonly certTable: Buffer;
  readonly endorsement: Buffer;
  readonly intermediate: Buffer;
  readonly ark: Buffer;
}

export interface FirmwareTcbs {
  readonly current: Tcb;
  readonly reported: Tcb;
  readonly committed: Tcb;
  readonly launch: Tcb;
}

function fixed(value: Uint8Array | undefined, size: number, name: string, fill = 0): Buffer {
  if (value === undefined) return Buffer.alloc(size, fill);
  if (value.length !== size) throw new RangeError(`${name} must be ${size} bytes, got ${value.length}`);
  return Buffer.from(value);
}

/**
 * Software SEV-SNP firmware for one guest on one simulated chip: answers guest report requests with
 * 1184-byte reports in the real layout, signed by the VCEK (or VLEK) that the simulated AMD root issues for
 * this chip and REPORTED_TCB.
 */
export class SimulatedFirmware {
  readonly root: SimulatedAmdRoot;
  readonly product: Product;
  readonly version: number;
  readonly signer: SignerKind;
  /** The chip's 64-byte CHIP_ID (what the VCEK's hwID names), whether or not reports mask it. */
  readonly chipId: Buffer;
  readonly tcb: FirmwareTcbs;
  readonly endorsement: Endorsement;
  private readonly fields: Omit<ReportFields, 'reportData' | 'vmpl'>;
  private readonly deterministic: boolean;

  constructor(options: SimulatedFirmwareOptions) {
    const { root } = options;
    const product = root.product;
    const profile = PRODUCT_PROFILES[product];
    const seed = options.seed === undefined ? root.seed : seedMaterial(options.seed);
    this.root = root;
    this.product = product;
    this.version = options.version ?? profile.reportVersion;
    if (!Number.isInteger(this.version) || this.version < MIN_VERSION || this.version > MAX_VERSION) {
      throw new RangeError(`report version ${this.version} is not in ${MIN_VERSION}..${MAX_VERSION}`);
    }
    this.signer = options.signer ?? 'VCEK';
    this.deterministic = seed !== null;
    this.chipId = resolveChipId(product, options.chipId, seed);
    const current = resolveTcb(product, options.tcb);
    this.tcb = {
      current,
      reported: resolveTcb(product, options.reportedTcb, current),
      committed: resolveTcb(product, options.committedTcb, current),
      launch: resolveTcb(product, options.launchTcb, current),
    };
    this.endorsement = this.signer === 'VCEK' ? root.vcek(this.chipId, this.tcb.reported) : root.vlek(this.tcb.reported, options.cspId ?? DEFAULT_CSP_ID);
    const guest = options.guest ?? {};
    const maskChipId = options.maskChipId ?? this.signer === 'VLEK';
    const platformInfo = options.platformInfo ?? defaultPlatformInfo(this.version);
    const tcbBytes = (t: Tcb): Buffer => encodeTcb(t, product);
    this.fields = {
      version: this.version,
      guestSvn: guest.guestSvn ?? 0,
      policy: typeof guest.policy === 'bigint' ? guest.policy : guest.policy ? encodePolicy(guest.policy) : DEFAULT_POLICY,
      familyId: fixed(guest.familyId, SIZE.familyId, 'family id'),
      imageId: fixed(guest.imageId, SIZE.imageId, 'image id'),
      currentTcb: tcbBytes(this.tcb.current),
      platformInfo: typeof platformInfo === 'bigint' ? platformInfo : encodePlatformInfo(platformInfo),
      keyInfo: encodeKeyInfo({ authorKeyEn: guest.authorKeyEn ?? guest.authorKeyDigest !== undefined, signingKey: this.signer }),
      measurement: fixed(guest.measurement ?? DEFAULT_MEASUREMENT, SIZE.measurement, 'measurement'),
      hostData: fixed(guest.hostData, SIZE.hostData, 'host data'),
      idKeyDigest: fixed(guest.idKeyDigest, SIZE.idKeyDigest, 'id key digest'),
      authorKeyDigest: fixed(guest.authorKeyDigest, SIZE.authorKeyDigest, 'author key digest'),
      reportId: fixed(guest.reportId ?? seededBytes(seed, `report-id/${product}/${this.chipId.toString('hex')}`, SIZE.reportId), SIZE.reportId, 'report id'),
      reportIdMa: fixed(guest.reportIdMa, SIZE.reportIdMa, 'report id ma', 0xff),
      reportedTcb: tcbBytes(this.tcb.reported),
      cpuid: options.cpuid ?? profile.cpuid,
      chipId: maskChipId ? Buffer.alloc(SIZE.chipId) : this.chipId,
      committedTcb: tcbBytes(this.tcb.committed),
      currentVersion: options.firmwareVersion ?? profile.firmware,
      committedVersion: options.committedFirmwareVersion ?? options.firmwareVersion ?? profile.firmware,
      launchTcb: tcbBytes(this.tcb.launch),
      launchMitVector: options.launchMitVector ?? 0n,
      currentMitVector: options.currentMitVector ?? 0n,
    };
  }

  /**
   * SNP_GUEST_REQUEST(MSG_REPORT_REQ): a signed 1184-byte report carrying `reportData` (up to 64 bytes,
   * zero-padded) requested at `vmpl`.
   */
  getReport(reportData: Uint8Array = new Uint8Array(0), vmpl = 0): Buffer {
    if (reportData.length > SIZE.reportData) throw new RangeError(`report data is ${reportData.length} bytes; at most ${SIZE.reportData}`);
    if (!Number.isInteger(vmpl) || vmpl < 0 || vmpl > 3) throw new RangeError(`VMPL ${vmpl} is not in 0..3`);
    const data = Buffer.alloc(SIZE.reportData);
    data.set(reportData);
    const report = encodeReport({ ...this.fields, reportData: data, vmpl });
    signReport(report, this.endorsement.key, this.deterministic);
    return report;
  }

  /** SNP extended guest request: the report plus the VCEK/VLEK, ASK/ASVK and ARK in a certificate table. */
  getExtendedReport(reportData: Uint8Array = new Uint8Array(0), vmpl = 0): ExtendedReport {
    const report = this.getReport(reportData, vmpl);
    const [intermediate, ark] = this.root.chainDer(this.signer);
    const endorsement = this.endorsement.der;
    const certTable = encodeCertTable([
      { guid: CERT_TABLE_GUIDS[this.signer], der: endorsement },
      { guid: CERT_TABLE_GUIDS.ASK, der: intermediate },
      { guid: CERT_TABLE_GUIDS.ARK, der: ark },
    ]);
    return { report, certTable, endorsement, intermediate, ark };
  }
}
