import { beforeAll, describe, expect, it } from 'vitest';
import { AMD_OID, decodeAmdExtensions } from '../../attestation/snp/amd-extensions.js';
import { OID_RSASSA_PSS, loadPemBundle, parseCertificate } from '../../attestation/snp/certificate.js';
import { PRODUCTS } from '../../attestation/snp/product.js';
import { trustAnchorsFromPem } from '../../attestation/snp/trust.js';
import { type SimulatedRoots, SimulatedAmdRoot, createSimulatedRoots, simulatedRootsPem } from '../../simulator/index.js';

const AMD_SUBJECT = ['OU=Engineering', 'C=US', 'L=Santa Clara', 'ST=CA', 'O=Advanced Micro Devices'];

let roots: SimulatedRoots;
beforeAll(async () => {
  roots = await createSimulatedRoots({ seed: 'certificate tests' });
});

describe('simulated AMD root certificates', () => {
  for (const product of PRODUCTS) {
    it(`${product}: ARK self-signed, ASK and ASVK signed by it, AMD names, serials and CA extensions`, () => {
      const root = roots[product];
      const ark = parseCertificate(root.certificates.ark);
      const ask = parseCertificate(root.certificates.ask);
      const asvk = parseCertificate(root.certificates.asvk);
      expect([ark.subjectCN, ark.issuerCN, ask.subjectCN, ask.issuerCN, asvk.subjectCN, asvk.issuerCN]).toEqual([
        `ARK-${product}`,
        `ARK-${product}`,
        `SEV-${product}`,
        `ARK-${product}`,
        `SEV-VLEK-${product}`,
        `ARK-${product}`,
      ]);
      for (const c of [ark, ask, asvk]) {
        expect(c.signatureAlgorithm).toBe(OID_RSASSA_PSS);
        expect(c.x509.ca).toBe(true);
        for (const part of AMD_SUBJECT) expect(c.x509.subject).toContain(part);
        expect(c.x509.verify(ark.x509.publicKey)).toBe(true);
        expect(c.x509.publicKey.asymmetricKeyType).toBe('rsa');
      }
      const n = PRODUCTS.indexOf(product) + 1;
      expect(ark.serialHex).toBe(`0${n}0000`);
      expect(asvk.serialHex).toBe(`0${n}0101`);
      expect(ask.extensions.get('2.5.29.19')?.toString('hex')).toBe('30060101ff020100'); // CA:TRUE, pathlen 0
      expect(ark.extensions.get('2.5.29.19')?.toString('hex')).toBe('30030101ff'); // CA:TRUE
      expect(ark.extensions.get('2.5.29.15')?.toString('hex')).toBe('03020106'); // keyCertSign, cRLSign
      expect(ask.extensions.get('2.5.29.15')?.toString('hex')).toBe('03020204'); // keyCertSign
      expect(ark.notAfter.getUTCFullYear() - ark.notBefore.getUTCFullYear()).toBe(25);
    });
  }

  it('roots.pem is accepted by trustAnchorsFromPem as simulated anchors for every product', () => {
    const anchors = trustAnchorsFromPem(simulatedRootsPem(roots), { simulated: true });
    expect(anchors.map((a) => a.product).sort()).toEqual([...PRODUCTS].sort());
    for (const a of anchors) {
      expect(a.simulated).toBe(true);
      expect(a.ask).not.toBeNull();
      expect(a.asvk).not.toBeNull();
    }
  });

  it('products are isolated: a Genoa ASK does not verify under the Milan ARK', () => {
    const milanArk = parseCertificate(roots.Milan.certificates.ark);
    expect(parseCertificate(roots.Genoa.certificates.ask).x509.verify(milanArk.x509.publicKey)).toBe(false);
  });

  it('generates fresh RSA roots of the requested size', async () => {
    const root = await SimulatedAmdRoot.create({ product: 'Milan', keyBits: 3072 });
    expect(root.seed).toBeNull();
    expect(parseCertificate(root.certificates.ark).x509.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    await expect(SimulatedAmdRoot.create({ product: 'Milan', keyBits: 1024 })).rejects.toThrow(RangeError);
    await expect(SimulatedAmdRoot.create({ product: 'Milan', seed: 's', keyBits: 4096 })).rejects.toThrow(/fixture/);
  });
});

describe('simulated VCEK and VLEK certificates', () => {
  const tcb = { bootloader: 4, tee: 0, snp: 24, microcode: 0xdb };

  it('a Milan VCEK: SEV-VCEK under the ASK, serial 0, P-384, only AMD extensions in KDS order', () => {
    const chipId = Buffer.alloc(64, 0xab);
    const vcek = parseCertificate(roots.Milan.vcek(chipId, tcb).der);
    expect([vcek.subjectCN, vcek.issuerCN, vcek.serialHex]).toEqual(['SEV-VCEK', 'SEV-Milan', '0']);
    expect(vcek.x509.verify(parseCertificate(roots.Milan.certificates.ask).x509.publicKey)).toBe(true);
    expect(vcek.x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(vcek.x509.ca).toBe(false);
    expect([...vcek.extensions.keys()]).toEqual([
      AMD_OID.structVersion,
      AMD_OID.productName,
      AMD_OID.blSPL,
      AMD_OID.teeSPL,
      AMD_OID.spl4,
      AMD_OID.spl5,
      AMD_OID.spl6,
      AMD_OID.spl7,
      AMD_OID.snpSPL,
      AMD_OID.ucodeSPL,
      AMD_OID.hwID,
    ]);
    const ext = decodeAmdExtensions(vcek.extensions);
    expect(ext).toMatchObject({ structVersion: 0, productName: 'Milan-B0', blSPL: 4, teeSPL: 0, snpSPL: 24, ucodeSPL: 0xdb, fmcSPL: null, hwIDEncoding: 'raw', cspID: null });
    expect(ext.hwID).toEqual(chipId);
    expect(vcek.extensions.get(AMD_OID.ucodeSPL)?.toString('hex')).toBe('020200db');
    expect(vcek.notAfter.getUTCFullYear() - vcek.notBefore.getUTCFullYear()).toBe(7);
  });

  it('a Turin VCEK: structVersion 1, fmcSPL, no spl4, 8-byte hwID', () => {
    const chipId = Buffer.concat([Buffer.alloc(8, 0x5a), Buffer.alloc(56)]);
    const vcek = parseCertificate(roots.Turin.vcek(chipId, { fmc: 2, bootloader: 1, tee: 0, snp: 3, microcode: 0x47 }).der);
    expect(vcek.extensions.has(AMD_OID.spl4)).toBe(false);
    expect(vcek.extensions.get(AMD_OID.hwID)?.length).toBe(8);
    expect(decodeAmdExtensions(vcek.extensions)).toMatchObject({ structVersion: 1, productName: 'Turin', fmcSPL: 2, blSPL: 1, snpSPL: 3, ucodeSPL: 0x47 });
  });

  it('a VLEK: SEV-VLEK under the ASVK, cspID, no hwID', () => {
    const vlek = parseCertificate(roots.Genoa.vlek(tcb, 'CN=zt4ai-sim').der);
    expect([vlek.subjectCN, vlek.issuerCN]).toEqual(['SEV-VLEK', 'SEV-VLEK-Genoa']);
    expect(vlek.x509.verify(parseCertificate(roots.Genoa.certificates.asvk).x509.publicKey)).toBe(true);
    expect(vlek.x509.verify(parseCertificate(roots.Genoa.certificates.ask).x509.publicKey)).toBe(false);
    expect(decodeAmdExtensions(vlek.extensions)).toMatchObject({ productName: 'Genoa', cspID: 'CN=zt4ai-sim', hwID: null });
  });

  it('derives one VCEK per chip and TCB, like the hardware', () => {
    const root = roots.Genoa;
    const chipA = Buffer.alloc(64, 1);
    const same = root.vcek(chipA, tcb);
    expect(root.vcek(Buffer.from(chipA), { ...tcb }).key.scalar).toEqual(same.key.scalar);
    expect(root.vcek(chipA, { ...tcb, snp: 25 }).key.scalar).not.toEqual(same.key.scalar);
    expect(root.vcek(Buffer.alloc(64, 2), tcb).key.scalar).not.toEqual(same.key.scalar);
    expect(root.vlek(tcb, 'CN=other').key.scalar).not.toEqual(root.vlek(tcb).key.scalar);
  });

  it('chainPem lists the intermediate then the ARK', () => {
    expect(loadPemBundle(roots.Turin.chainPem('VCEK')).map((c) => c.subjectCN)).toEqual(['SEV-Turin', 'ARK-Turin']);
    expect(loadPemBundle(roots.Turin.chainPem('VLEK')).map((c) => c.subjectCN)).toEqual(['SEV-VLEK-Turin', 'ARK-Turin']);
  });
});
