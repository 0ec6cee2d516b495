import { type KeyObject, createPublicKey } from 'node:crypto';
import { toPem } from '../attestation/snp/certificate.js';
import { PRODUCTS, type Product } from '../attestation/snp/product.js';
import { type Tcb, encodeTcb } from '../attestation/snp/tcb.js';
import { issueCaCertificates } from './ca-certificates.js';
import type { CertificateSigner } from './certificate-builder.js';
import { chipIdLength, resolveTcb } from './chip.js';
import { DEFAULT_CSP_ID } from './defaults.js';
import { type SignerKind, issueEndorsementCertificate } from './endorsement-certificate.js';
import { type EndorsementKey, deriveP384Key } from './endorsement-key.js';
import { type CaRole, DEFAULT_KEY_BITS, FIXTURE_KEY_BITS, type RootKeys, fixtureRootKeys, generateRootKeys } from './root-keys.js';
import { type SeedMaterial, type SimSeed, seedMaterial, seededBytes } from './seed.js';
import { SEEDED_CA_ISSUED_AT, SEEDED_LEAF_ISSUED_AT, caValidity, leafValidity } from './validity.js';

export interface SimulatedRootOptions {
  readonly product: Product;
  /** Deterministic mode: committed fixture RSA keys, fixed dates, seed-derived secrets and PSS salts. */
  readonly seed?: SimSeed;
  /** RSA size of fresh keys (default 4096, like AMD's); seeded runs use the RSA-2048 fixture keys. */
  readonly keyBits?: number;
  /** Bring your own ARK/ASK/ASVK private keys instead of generating or loading them. */
  readonly keys?: RootKeys;
  /** When the ARK/ASK/ASVK were issued (default: a day ago, or a fixed date when seeded). */
  readonly caIssuedAt?: Date;
  /** When VCEKs/VLEKs are issued (default: now, or a fixed date when seeded). */
  readonly leafIssuedAt?: Date;
  /** Called as each RSA key is generated (RSA-4096 takes seconds). */
  readonly onKey?: (product: Product, role: CaRole) => void;
}

/** A VCEK or VLEK: its DER certificate and key pair. */
export interface Endorsement {
  readonly kind: SignerKind;
  readonly der: Buffer;
  readonly key: EndorsementKey;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * One product's simulated AMD root: ARK, ASK and ASVK certificates with their RSA keys, and the KDS role of
 * issuing VCEKs (one per chip and TCB, derived like real hardware's) and VLEKs (one per CSP and TCB).
 * Every certificate is SIMULATED: verifiers must accept it only through explicitly simulated trust anchors.
 */
export class SimulatedAmdRoot {
  readonly product: Product;
  /** Seed material, or null for a random (non-reproducible) root. */
  readonly seed: SeedMaterial;
  /** DER certificates of the ARK, ASK and ASVK. */
  readonly certificates: Readonly<Record<CaRole, Buffer>>;
  readonly keyBits: number;
  private readonly keys: RootKeys;
  private readonly derivationSecret: Buffer;
  private readonly leafIssuedAt: Date;
  private readonly issued = new Map<string, Endorsement>();

  private constructor(product: Product, keys: RootKeys, seed: SeedMaterial, options: SimulatedRootOptions) {
    this.product = product;
    this.seed = seed;
    this.keys = keys;
    this.keyBits = keys.ark.asymmetricKeyDetails?.modulusLength ?? 0;
    const caIssuedAt = options.caIssuedAt ?? (seed ? SEEDED_CA_ISSUED_AT : new Date(Date.now() - DAY_MS));
    this.certificates = issueCaCertificates(product, keys, caValidity(caIssuedAt), seed);
    this.derivationSecret = seededBytes(seed, `endorsement-secret/${product}`, 48);
    this.leafIssuedAt = options.leafIssuedAt ?? (seed ? SEEDED_LEAF_ISSUED_AT : new Date());
  }

  /** Creates a root: fixture keys when seeded, the given keys, or fresh RSA keys of `keyBits`. */
  static async create(options: SimulatedRootOptions): Promise<SimulatedAmdRoot> {
    const seed = seedMaterial(options.seed);
    if (seed && !options.keys && options.keyBits !== undefined && options.keyBits !== FIXTURE_KEY_BITS) {
      throw new RangeError(`seeded roots use the committed RSA-${FIXTURE_KEY_BITS} fixture keys; key size ${options.keyBits} needs an unseeded run`);
    }
    const keys = options.keys ?? (seed ? fixtureRootKeys(options.product) : await generateRootKeys(options.keyBits ?? DEFAULT_KEY_BITS, (role) => options.onKey?.(options.product, role)));
    return new SimulatedAmdRoot(options.product, keys, seed, options);
  }

  /** The VCEK for a chip (64-byte CHIP_ID form, or its hwID) at a TCB; the same inputs give the same VCEK. */
  vcek(chipId: Uint8Array, tcb: Partial<Tcb> = {}): Endorsement {
    const full = resolveTcb(this.product, tcb);
    const hwId = Buffer.from(chipId.subarray(0, chipIdLength(this.product)));
    const context = Buffer.concat([Buffer.from(`vcek/${this.product}/`), hwId, encodeTcb(full, this.product)]);
    return this.issue(context, { kind: 'VCEK', tcb: full, hwId });
  }

  /** The VLEK for a cloud provider at a TCB (AMD issues VLEKs per CSP, not per chip). */
  vlek(tcb: Partial<Tcb> = {}, cspId: string = DEFAULT_CSP_ID): Endorsement {
    const full = resolveTcb(this.product, tcb);
    const context = Buffer.concat([Buffer.from(`vlek/${this.product}/${cspId}/`), encodeTcb(full, this.product)]);
    return this.issue(context, { kind: 'VLEK', tcb: full, cspId });
  }

  private issue(context: Buffer, what: { kind: SignerKind; tcb: Tcb; hwId?: Buffer; cspId?: string }): Endorsement {
    const cacheKey = context.toString('hex');
    const hit = this.issued.get(cacheKey);
    if (hit) return hit;
    const key = deriveP384Key(this.derivationSecret, context);
    const signer: CertificateSigner = { key: what.kind === 'VCEK' ? this.keys.ask : this.keys.asvk, seed: this.seed };
    const der = issueEndorsementCertificate({ ...what, product: this.product, key, validity: leafValidity(this.leafIssuedAt) }, signer);
    const endorsement: Endorsement = { kind: what.kind, der, key };
    this.issued.set(cacheKey, endorsement);
    return endorsement;
  }

  /** The intermediate that signs `kind` (ASK for VCEKs, ASVK for VLEKs), then the ARK, as KDS's cert_chain. */
  chainDer(kind: SignerKind): [Buffer, Buffer] {
    return [kind === 'VCEK' ? this.certificates.ask : this.certificates.asvk, this.certificates.ark];
  }

  chainPem(kind: SignerKind): string {
    return this.chainDer(kind).map(toPem).join('');
  }

  /** ARK, ASK and ASVK as PEM, for `trustAnchorsFromPem(pem, { simulated: true })`. */
  rootsPem(): string {
    return [this.certificates.ark, this.certificates.ask, this.certificates.asvk].map(toPem).join('');
  }

  /** Public half of a CA key (to check signatures in tests). */
  caPublicKey(role: CaRole): KeyObject {
    return createPublicKey(this.keys[role]);
  }
}

export type SimulatedRoots = Readonly<Record<Product, SimulatedAmdRoot>>;

/** Simulated roots for every product (Milan, Genoa, Turin), their keys generated in parallel. */
export async function createSimulatedRoots(options: Omit<SimulatedRootOptions, 'product' | 'keys'> = {}): Promise<SimulatedRoots> {
  const roots = await Promise.all(PRODUCTS.map((product) => SimulatedAmdRoot.create({ ...options, product })));
  return Object.fromEntries(roots.map((r) => [r.product, r])) as Record<Product, SimulatedAmdRoot>;
}

/** One PEM bundle with every product's simulated ARK, ASK and ASVK. */
export function simulatedRootsPem(roots: SimulatedRoots): string {
  return PRODUCTS.map((p) => roots[p].rootsPem()).join('');
}
