import { type KeyObject, createPublicKey } from 'node:crypto';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import type { Product } from '../attestation/snp/product.js';
import { type CertificateSigner, buildCertificate, keyIdentifier, schemaExtension } from './certificate-builder.js';
import { toArrayBuffer } from './der.js';
import type { CaRole, RootKeys } from './root-keys.js';
import type { SeedMaterial } from './seed.js';
import type { ValidityWindow } from './validity.js';

/** AMD's serial numbers (observed): ARK 0x0P0000, ASK 0x010001/0x020002/0x030001, ASVK 0x0P0101. */
const SERIALS: Record<Product, Record<CaRole, number>> = {
  Milan: { ark: 0x010000, ask: 0x010001, asvk: 0x010101 },
  Genoa: { ark: 0x020000, ask: 0x020002, asvk: 0x020101 },
  Turin: { ark: 0x030000, ask: 0x030001, asvk: 0x030101 },
};

const OID = { ski: '2.5.29.14', aki: '2.5.29.35', basic: '2.5.29.19', keyUsage: '2.5.29.15', crlDp: '2.5.29.31' } as const;

/** The common name AMD gives each CA role. */
export function caCommonName(role: CaRole, product: Product): string {
  return role === 'ark' ? `ARK-${product}` : role === 'ask' ? `SEV-${product}` : `SEV-VLEK-${product}`;
}

function crlDistributionPoint(product: Product, kind: 'vcek' | 'vlek') {
  const uri = `https://kdsintf.amd.com/${kind}/v1/${product}/crl`;
  const dp = new DistributionPoint({ distributionPoint: new DistributionPointName({ fullName: [new GeneralName({ uniformResourceIdentifier: uri })] }) });
  return schemaExtension(OID.crlDp, new CRLDistributionPoints([dp]));
}

function ski(key: KeyObject) {
  return schemaExtension(OID.ski, new SubjectKeyIdentifier(toArrayBuffer(keyIdentifier(key))));
}

/** ARK: keyUsage keyCertSign+cRLSign, SKI, CA:TRUE without pathlen, CRL DP - in AMD's order. */
function arkExtensions(product: Product, key: KeyObject) {
  return [
    schemaExtension(OID.keyUsage, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign), true),
    ski(key),
    schemaExtension(OID.basic, new BasicConstraints({ cA: true }), true),
    crlDistributionPoint(product, 'vcek'),
  ];
}

/** ASK/ASVK: SKI, AKI, CA:TRUE pathlen 0, keyUsage keyCertSign, CRL DP. */
function intermediateExtensions(product: Product, role: 'ask' | 'asvk', key: KeyObject, arkKey: KeyObject) {
  return [
    ski(key),
    schemaExtension(OID.aki, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(toArrayBuffer(keyIdentifier(arkKey))) })),
    schemaExtension(OID.basic, new BasicConstraints({ cA: true, pathLenConstraint: 0 }), true),
    schemaExtension(OID.keyUsage, new KeyUsage(KeyUsageFlags.keyCertSign), true),
    crlDistributionPoint(product, role === 'ask' ? 'vcek' : 'vlek'),
  ];
}

/** Issues one product's ARK (self-signed), ASK and ASVK (both signed by the ARK). Returns DER. */
export function issueCaCertificates(product: Product, keys: RootKeys, validity: ValidityWindow, seed: SeedMaterial): Record<CaRole, Buffer> {
  const pub = (role: CaRole): KeyObject => createPublicKey(keys[role]);
  const signer: CertificateSigner = { key: keys.ark, seed };
  const common = { ...validity, issuerCn: caCommonName('ark', product), explicitPssTrailer: true };
  const intermediate = (role: 'ask' | 'asvk'): Buffer =>
    buildCertificate(
      { ...common, serial: SERIALS[product][role], subjectCn: caCommonName(role, product), subjectPublicKey: pub(role), extensions: intermediateExtensions(product, role, pub(role), pub('ark')) },
      signer,
    );
  return {
    ark: buildCertificate({ ...common, serial: SERIALS[product].ark, subjectCn: caCommonName('ark', product), subjectPublicKey: pub('ark'), extensions: arkExtensions(product, pub('ark')) }, signer),
    ask: intermediate('ask'),
    asvk: intermediate('asvk'),
  };
}
