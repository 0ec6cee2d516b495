import 'reflect-metadata';
import { constants, sign, webcrypto } from 'node:crypto';
import { OctetString } from '@peculiar/asn1-schema';
import { Extension } from '@peculiar/asn1-x509';
import * as px509 from '@peculiar/x509';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttestationError, type AttestationErrorCode } from '../../attestation/errors.js';
import { parseCertificate } from '../../attestation/snp/certificate.js';
import { type VerifiedCrl, checkRevoked, normalizeSerialHex, parseCrl, verifyCrl } from '../../attestation/snp/crl.js';
import type { TrustAnchor } from '../../attestation/snp/trust.js';
import { type CrlOptions, makeCrl, makeTestPki, makeVcek, pssAlgorithm } from '../helpers/crl-fixtures.js';

const pki = makeTestPki('Milan');
const otherPki = makeTestPki('Milan');
const THIS_UPDATE = new Date('2026-01-01T00:00:00Z');
const NEXT_UPDATE = new Date('2026-02-01T00:00:00Z');
const NOW = new Date('2026-01-15T00:00:00Z');

function crl(overrides: Partial<CrlOptions> = {}): Buffer {
  return makeCrl({ issuerCN: 'ARK-Milan', signerKey: pki.arkKey.privateKey, thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, ...overrides });
}

/** The error verifyCrl throws; fails the test if it throws anything untyped or nothing at all. */
function failure(der: Uint8Array, anchor: TrustAnchor = pki.anchor, now: Date = NOW): AttestationError {
  try {
    verifyCrl(der, anchor, now);
  } catch (e) {
    expect(e).toBeInstanceOf(AttestationError);
    return e as AttestationError;
  }
  throw new Error('verifyCrl accepted the CRL');
}

function expectCode(der: Uint8Array, code: AttestationErrorCode, anchor?: TrustAnchor, now?: Date): AttestationError {
  const e = failure(der, anchor, now);
  expect(e.code).toBe(code);
  return e;
}

describe('verifyCrl: accepted CRLs', () => {
  it('accepts an ARK-signed CRL with no entries and reports its window', () => {
    const v = verifyCrl(crl(), pki.anchor, NOW);
    expect(v.issuerCN).toBe('ARK-Milan');
    expect(v.thisUpdate).toEqual(THIS_UPDATE);
    expect(v.nextUpdate).toEqual(NEXT_UPDATE);
    expect(v.revokedSerials.size).toBe(0);
    expect(checkRevoked([pki.ask, pki.ark], v)).toEqual([]);
  });

  it('accepts a CRL without nextUpdate and reports null', () => {
    expect(verifyCrl(crl({ nextUpdate: null }), pki.anchor, new Date('2030-01-01T00:00:00Z')).nextUpdate).toBeNull();
  });

  it('accepts the exact window edges and honours clockSkewMs', () => {
    expect(() => verifyCrl(crl(), pki.anchor, THIS_UPDATE)).not.toThrow();
    expect(() => verifyCrl(crl(), pki.anchor, NEXT_UPDATE)).not.toThrow();
    const early = new Date(THIS_UPDATE.getTime() - 60_000);
    expect(() => verifyCrl(crl(), pki.anchor, early, { clockSkewMs: 120_000 })).not.toThrow();
  });

  it('accepts a non-critical CRL extension (CRL number)', () => {
    const crlNumber = new Extension({ extnID: '2.5.29.20', critical: false, extnValue: new OctetString(Buffer.from([0x02, 0x01, 0x07])) });
    expect(() => verifyCrl(crl({ crlExtensions: [crlNumber] }), pki.anchor, NOW)).not.toThrow();
  });
});

describe('checkRevoked', () => {
  it('reports the ASK when its serial is listed', () => {
    const v = verifyCrl(crl({ revokedSerialsHex: ['010001'] }), pki.anchor, NOW);
    const errors = checkRevoked([pki.ask, pki.ark], v);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('ERR_CERT_REVOKED');
    expect(errors[0]!.message).toContain('SEV-Milan');
    expect(errors[0]!.message).toContain('010001');
  });

  it('matches serials whatever their padding on either side', () => {
    // DER may carry a sign byte (0x00 0x80); node pads to whole bytes ("010001").
    const v = verifyCrl(crl({ revokedSerialsHex: ['0010001'] }), pki.anchor, NOW);
    expect(checkRevoked([pki.ask], v)).toHaveLength(1);
    expect(normalizeSerialHex('010001')).toBe('10001');
    expect(normalizeSerialHex('0080')).toBe('80');
    expect(normalizeSerialHex('00')).toBe('0');
    expect(normalizeSerialHex('0')).toBe('0');
    expect(normalizeSerialHex('ABCDEF')).toBe('abcdef');
  });

  it('agrees with node on a serial whose top bit is set', () => {
    const v: VerifiedCrl = { issuerCN: 'ARK-Milan', thisUpdate: THIS_UPDATE, nextUpdate: NEXT_UPDATE, revokedSerials: new Set(['80']) };
    const fake = { ...pki.ask, serialHex: '0080' };
    expect(checkRevoked([fake], v)).toHaveLength(1);
  });

  it('ignores certificates the CRL issuer did not issue (every VCEK has serial 0)', () => {
    const vcek = parseCertificate(makeVcek(pki, Buffer.alloc(64, 1), { bootloader: 1, tee: 0, snp: 1, microcode: 1 }));
    expect(vcek.serialHex).toBe('0');
    const v = verifyCrl(crl({ revokedSerialsHex: ['00'] }), pki.anchor, NOW);
    expect(checkRevoked([vcek, pki.ask], v)).toEqual([]);
  });
});

describe('verifyCrl: rejected CRLs', () => {
  it('rejects a flipped signature bit with ERR_CRL_INVALID', () => {
    const der = crl();
    der[der.length - 1]! ^= 0x01;
    expect(expectCode(der, 'ERR_CRL_INVALID').message).toMatch(/signature/);
  });

  it('rejects a CRL signed by another key under the right name', () => {
    expectCode(crl({ signerKey: otherPki.arkKey.privateKey }), 'ERR_CRL_INVALID');
    expectCode(crl({ signerKey: pki.askKey.privateKey }), 'ERR_CRL_INVALID');
  });

  it('rejects a CRL whose issuer is not the ARK, even with a valid ARK signature', () => {
    expect(expectCode(crl({ issuerCN: 'ARK-Genoa' }), 'ERR_CRL_INVALID').message).toContain('ARK-Genoa');
    expectCode(crl({ issuerCN: 'SEV-Milan' }), 'ERR_CRL_INVALID');
  });

  it('rejects a CRL checked against another anchor with the same ARK name', () => {
    expectCode(crl(), 'ERR_CRL_INVALID', otherPki.anchor);
  });

  it('rejects an expired CRL with ERR_CRL_STALE (a replayed CRL)', () => {
    expect(expectCode(crl(), 'ERR_CRL_STALE', pki.anchor, new Date('2026-02-01T00:00:01Z')).message).toContain('nextUpdate');
  });

  it('rejects a not-yet-valid CRL with ERR_CRL_STALE', () => {
    expectCode(crl(), 'ERR_CRL_STALE', pki.anchor, new Date('2025-12-31T23:59:59Z'));
  });

  it('rejects nextUpdate before thisUpdate', () => {
    expectCode(crl({ nextUpdate: new Date('2025-12-01T00:00:00Z') }), 'ERR_CRL_INVALID');
  });

  it('rejects PSS parameters that do not match the signature or node cannot honour', () => {
    const salt32 = pssAlgorithm({ hash: 'sha384', mgfHash: 'sha384', saltLength: 32 });
    // Parameters claim salt 32 but the signature was made with salt 48.
    expectCode(crl({ algorithm: salt32 }), 'ERR_CRL_INVALID');
    expectCode(crl({ algorithm: pssAlgorithm({ hash: 'sha384', mgfHash: 'sha256', saltLength: 48 }) }), 'ERR_CRL_INVALID');
    expectCode(crl({ algorithm: pssAlgorithm({ hash: 'sha1', mgfHash: 'sha1', saltLength: 20 }) }), 'ERR_CRL_INVALID');
  });

  it('accepts other PSS parameters when the signature really uses them', () => {
    const alg = pssAlgorithm({ hash: 'sha256', mgfHash: 'sha256', saltLength: 32 });
    const signer = (tbs: Buffer): Buffer => signPss(tbs, 'sha256', 32);
    expect(() => verifyCrl(crl({ algorithm: alg, signer }), pki.anchor, NOW)).not.toThrow();
  });

  it('rejects an outer signatureAlgorithm that differs from the signed one', () => {
    const outer = pssAlgorithm({ hash: 'sha384', mgfHash: 'sha384', saltLength: 48 });
    expect(expectCode(crl({ outerAlgorithm: outer }), 'ERR_CRL_INVALID').message).toMatch(/differs/);
  });

  it('rejects an unknown critical extension', () => {
    const ext = new Extension({ extnID: '1.2.3.4', critical: true, extnValue: new OctetString(Buffer.from([0x05, 0x00])) });
    expect(expectCode(crl({ crlExtensions: [ext] }), 'ERR_CRL_INVALID').message).toContain('1.2.3.4');
  });

  it('rejects every truncation and trailing garbage with ERR_CRL_INVALID', () => {
    const der = crl({ revokedSerialsHex: ['010001'] });
    for (let len = 0; len < der.length; len += 7) expectCode(der.subarray(0, len), 'ERR_CRL_INVALID');
    expectCode(der.subarray(0, der.length - 1), 'ERR_CRL_INVALID');
    expectCode(Buffer.concat([der, Buffer.from([0])]), 'ERR_CRL_INVALID');
    expectCode(Buffer.alloc(2 * 1024 * 1024, 0x30), 'ERR_CRL_INVALID');
  });

  it('never throws anything but ERR_CRL_INVALID on random bytes or random corruption', () => {
    const der = crl({ revokedSerialsHex: ['010001'] });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        expect(failure(bytes).code).toBe('ERR_CRL_INVALID');
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = Buffer.from(der);
        bad[at]! ^= xor;
        expect(['ERR_CRL_INVALID', 'ERR_CRL_STALE']).toContain(failure(bad).code);
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseCrl', () => {
  it('reads structure without judging the signer', () => {
    const p = parseCrl(crl({ signerKey: otherPki.arkKey.privateKey, revokedSerialsHex: ['010001'] }));
    expect(p.issuerCN).toBe('ARK-Milan');
    expect([...p.revokedSerials]).toEqual(['10001']);
  });
});

describe('interoperability with another encoder (@peculiar/x509)', () => {
  px509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof px509.cryptoProvider.get>);
  const rsa = { publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const cases = [
    { label: 'RSASSA-PSS SHA-384 salt 48', alg: { name: 'RSA-PSS', hash: 'SHA-384', saltLength: 48, ...rsa } },
    { label: 'RSA PKCS#1 v1.5 SHA-256', alg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', ...rsa } },
    { label: 'ECDSA P-384 SHA-384', alg: { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' } },
  ];
  for (const { label, alg } of cases) {
    it(`verifies an ${label} CRL and its listed serial`, async () => {
      const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const cert = await px509.X509CertificateGenerator.createSelfSigned({
        serialNumber: '010000',
        name: 'CN=ARK-Milan, O=Advanced Micro Devices',
        notBefore: new Date('2020-01-01T00:00:00Z'),
        notAfter: new Date('2045-01-01T00:00:00Z'),
        keys,
        signingAlgorithm: alg,
      });
      const made = await px509.X509CrlGenerator.create({
        issuer: cert.subject,
        thisUpdate: THIS_UPDATE,
        nextUpdate: NEXT_UPDATE,
        signingAlgorithm: alg,
        signingKey: keys.privateKey,
        entries: [{ serialNumber: '0080', revocationDate: THIS_UPDATE }],
      });
      const ark = parseCertificate(Buffer.from(cert.rawData));
      const anchor: TrustAnchor = { product: 'Milan', ark, ask: null, asvk: null, simulated: true };
      const v = verifyCrl(new Uint8Array(made.rawData), anchor, NOW);
      expect([...v.revokedSerials]).toEqual(['80']);
      expect(() => verifyCrl(new Uint8Array(made.rawData), pki.anchor, NOW)).toThrow(AttestationError);
    });
  }
});

/** RSASSA-PSS with a chosen digest and salt, by the fixture ARK key. */
function signPss(data: Buffer, hash: string, saltLength: number): Buffer {
  return sign(hash, data, { key: pki.arkKey.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
}

describe('verifyCrl: strict DER', () => {
  it('every single-bit flip anywhere in a CRL is refused (fast-check once found [261, 0x80] in the unsigned envelope)', () => {
    const der = crl({ revokedSerialsHex: ['010001'] });
    for (let at = 0; at < der.length; at++) {
      for (const xor of [0x80, 0x20, 0x01]) {
        const bad = Buffer.from(der);
        bad[at]! ^= xor;
        let code: string;
        try {
          code = failure(bad).code;
        } catch {
          throw new Error(`byte ${at} ^ 0x${xor.toString(16)} was accepted`);
        }
        expect(['ERR_CRL_INVALID', 'ERR_CRL_STALE'], `byte ${at} ^ 0x${xor.toString(16)}`).toContain(code);
      }
    }
  });
});
