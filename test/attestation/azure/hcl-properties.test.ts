import { createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseHclReport } from '../../../attestation/azure/hcl.js';
import { HCL, HCL_OFF } from '../../../attestation/azure/hcl-layout.js';
import { parseRuntimeClaims } from '../../../attestation/azure/runtime-claims.js';
import { parsePcrValues } from '../../../attestation/azure/tpm-pcrs.js';
import { verifyTpmQuote } from '../../../attestation/azure/tpm-quote.js';
import { parseTpmtSignature } from '../../../attestation/azure/tpm-signature.js';
import { parseQuoteAttest } from '../../../attestation/azure/tpm-structures.js';
import { type HclVerifyOptions, verifyHclEvidence } from '../../../attestation/azure/verify-hcl.js';
import { ATTESTATION_ERROR_CODES, AttestationError } from '../../../attestation/errors.js';
import { parseCertificate } from '../../../attestation/snp/certificate.js';
import { trustAnchorsFromPem } from '../../../attestation/snp/trust.js';
import { SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../../simulator/index.js';
import { type SimulatedQuote, SimulatedVtpm } from '../../../simulator/azure/index.js';

const KNOWN = new Set(Object.keys(ATTESTATION_ERROR_CODES));
const onlyTyped = (fn: () => unknown): void => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AttestationError);
    expect(KNOWN.has((e as AttestationError).code)).toBe(true);
  }
};

let hcl: Buffer;
let quote: SimulatedQuote;
let vtpm: SimulatedVtpm;
let options: HclVerifyOptions;
const NONCE = Buffer.from('property nonce');
beforeAll(async () => {
  const roots = await createSimulatedRoots({ seed: 'azure properties' });
  const fw = new SimulatedFirmware({ root: roots.Turin });
  vtpm = await SimulatedVtpm.create({ firmware: fw });
  hcl = vtpm.hclReport();
  quote = vtpm.quote(NONCE, [0, 4, 7]);
  options = {
    certificates: [parseCertificate(fw.endorsement.der)],
    trust: trustAnchorsFromPem(simulatedRootsPem(roots), { simulated: true }),
    tpm: { quote, nonce: NONCE, pcrs: parsePcrValues(quote.pcrsJson()) },
  };
});

/**
 * Bytes nothing signs or hashes: header version, request_type, status, reserved, and the request data
 * version. Changing them may leave the verdict ok (versions 1 and 2 are both known); nothing else may.
 */
const UNMEASURED: ReadonlyArray<readonly [number, number]> = [
  [HCL_OFF.version, HCL_OFF.reportSize],
  [HCL_OFF.requestType, HCL.headerSize],
  [HCL_OFF.requestDataVersion, HCL_OFF.reportType],
];
const unmeasured = (i: number) => UNMEASURED.some(([start, end]) => i >= start && i < end);
const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 });

describe('hostile HCL and TPM input gets typed errors, never a crash', () => {
  it('parseHclReport and parseRuntimeClaims on random bytes (with and without the HCLA magic)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.boolean(), (bytes, magic) => {
        const buf = Buffer.from(bytes);
        if (magic && buf.length >= 4) buf.writeUInt32LE(HCL.magic, 0);
        onlyTyped(() => parseHclReport(buf));
        onlyTyped(() => parseRuntimeClaims(buf));
      }),
      { numRuns: 500 },
    );
  });

  it('mutated HCL reports: verifyHclEvidence never throws, and is ok only if just unmeasured header bytes changed', () => {
    fc.assert(
      fc.property(mutation, (flips) => {
        const buf = Buffer.from(hcl);
        const touched = flips.map(([at, x]) => {
          const i = at % buf.length;
          buf[i]! ^= x;
          return i;
        });
        const v = verifyHclEvidence(buf, options);
        for (const e of v.errors) expect(KNOWN.has(e.code)).toBe(true);
        const changed = touched.filter((i) => buf[i] !== hcl[i]);
        if (v.ok) expect(changed.every(unmeasured)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('truncated or extended HCL reports never verify unless only zero padding changed', () => {
    const size = parseHclReport(hcl).reportSize;
    fc.assert(
      fc.property(fc.nat({ max: hcl.length + 100 }), (length) => {
        const buf = length <= hcl.length ? hcl.subarray(0, length) : Buffer.concat([hcl, Buffer.alloc(length - hcl.length)]);
        const v = verifyHclEvidence(buf, options);
        expect(v.ok).toBe(length >= size);
      }),
      { numRuns: 200 },
    );
  });

  it('random and mutated quotes: parsers throw only typed errors; verifyTpmQuote never throws and never accepts a change', () => {
    const ak = createPublicKey(vtpm.akPrivateKey);
    const pcrs = parsePcrValues(quote.pcrsJson());
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), mutation, fc.boolean(), (random, flips, inSignature) => {
        onlyTyped(() => parseQuoteAttest(random));
        onlyTyped(() => parseTpmtSignature(random));
        const original = inSignature ? quote.signature : quote.message;
        const target = Buffer.from(original);
        for (const [at, x] of flips) target[at % target.length]! ^= x;
        const mutated = inSignature ? { message: quote.message, signature: target } : { message: target, signature: quote.signature };
        const r = verifyTpmQuote(mutated, { ak, nonce: NONCE, pcrs });
        for (const e of r.errors) expect(KNOWN.has(e.code)).toBe(true);
        // Two flips of one byte can cancel out; only an actual change must be refused.
        expect(r.ok).toBe(target.equals(original));
      }),
      { numRuns: 300 },
    );
  });
});

describe('every single-byte change of a simulated HCL report', () => {
  it('is refused unless the byte is one nothing signs or hashes', () => {
    const { tpm: _quote, ...withoutQuote } = options;
    const accepted: number[] = [];
    for (let i = 0; i < hcl.length; i++) {
      const buf = Buffer.from(hcl);
      buf[i]! ^= 0x03;
      if (verifyHclEvidence(buf, withoutQuote).ok) accepted.push(i);
    }
    expect(accepted.every(unmeasured)).toBe(true);
    expect(accepted).toContain(HCL_OFF.status);
  });
});
