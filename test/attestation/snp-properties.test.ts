import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ATTESTATION_ERROR_CODES, AttestationError } from '../../attestation/errors.js';
import { loadCertificates } from '../../attestation/snp/certificate.js';
import { decodeAmdExtensions } from '../../attestation/snp/amd-extensions.js';
import { REPORT_SIZE } from '../../attestation/snp/layout.js';
import { parseReport } from '../../attestation/snp/report.js';
import { verifySnpReport } from '../../attestation/snp/verify.js';
import { HAS_SHARED, snpVector } from '../helpers/shared.js';

const KNOWN = new Set(Object.keys(ATTESTATION_ERROR_CODES));
const onlyTyped = (fn: () => unknown): void => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AttestationError);
    expect(KNOWN.has((e as AttestationError).code)).toBe(true);
  }
};

describe('hostile input gets typed errors, never a crash', () => {
  it('parseReport on random bytes of any length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2 * REPORT_SIZE }), (bytes) => onlyTyped(() => parseReport(bytes))), { numRuns: 500 });
  });

  it('parseReport on random 1184-byte reports with a plausible version', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: REPORT_SIZE, maxLength: REPORT_SIZE }), fc.integer({ min: 0, max: 7 }), (bytes, version) => {
        const buf = Buffer.from(bytes);
        buf.writeUInt32LE(version, 0);
        onlyTyped(() => parseReport(buf));
      }),
      { numRuns: 500 },
    );
  });

  it('verifySnpReport never throws, and random reports are never ok', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: REPORT_SIZE, maxLength: REPORT_SIZE }), (bytes) => {
        const buf = Buffer.from(bytes);
        buf.writeUInt32LE(2 + (buf[4]! % 4), 0);
        const v = verifySnpReport(buf);
        expect(v.ok).toBe(false);
        for (const e of v.errors) expect(KNOWN.has(e.code)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('loadCertificates on random bytes, random PEM and random JSON', () => {
    const pem = fc.base64String({ maxLength: 400 }).map((b) => `-----BEGIN CERTIFICATE-----\n${b}\n-----END CERTIFICATE-----\n`);
    const json = fc.oneof(fc.json(), fc.record({ vcekCert: fc.string(), certificateChain: fc.string() }).map((o) => JSON.stringify(o)));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 2000 }), pem.map((s) => Buffer.from(s)), json.map((s) => Buffer.from(s))), (input) =>
        onlyTyped(() => loadCertificates(input)),
      ),
      { numRuns: 400 },
    );
  });

  it('AMD extension decoding on random extension values', () => {
    const oids = ['1.3.6.1.4.1.3704.1.1', '1.3.6.1.4.1.3704.1.2', '1.3.6.1.4.1.3704.1.3.8', '1.3.6.1.4.1.3704.1.4', '1.3.6.1.4.1.3704.1.5'];
    fc.assert(
      fc.property(fc.constantFrom(...oids), fc.uint8Array({ maxLength: 80 }), (oid, value) => onlyTyped(() => decodeAmdExtensions(new Map([[oid, Buffer.from(value)]])))),
      { numRuns: 1000 },
    );
  });
});

describe.skipIf(!HAS_SHARED)('mutated real evidence', () => {
  it('random multi-byte mutations of a real report and certificate never verify and never crash', () => {
    const report = snpVector('oak/genoa_oc_report.bin');
    const vcek = snpVector('oak/genoa_oc_vcek.der');
    const now = new Date('2026-06-01T00:00:00Z');
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.nat(REPORT_SIZE - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8, selector: ([off]) => off }),
        fc.array(fc.tuple(fc.nat(vcek.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
        (reportFlips, certFlips) => {
          const r = Buffer.from(report);
          for (const [off, x] of reportFlips) r[off]! ^= x;
          const c = Buffer.from(vcek);
          for (const [off, x] of certFlips) c[off]! ^= x;
          let certs: ReturnType<typeof loadCertificates> = [];
          onlyTyped(() => {
            certs = loadCertificates(c);
          });
          const v = verifySnpReport(r, { certificates: certs, now });
          expect(v.ok).toBe(false);
          for (const e of v.errors) expect(KNOWN.has(e.code)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
