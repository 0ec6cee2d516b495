import { constants, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TPM_ALG } from '../../../attestation/azure/tpm-constants.js';
import { parsePcrValues } from '../../../attestation/azure/tpm-pcrs.js';
import { verifyTpmQuote } from '../../../attestation/azure/tpm-quote.js';
import { decodeQuoteSignature, parseTpmtSignature, verifyTpmSignature } from '../../../attestation/azure/tpm-signature.js';
import { bitmapToIndices, parseQuoteAttest } from '../../../attestation/azure/tpm-structures.js';
import { encodeQuoteAttest, encodeRsassaSignature } from '../../../simulator/azure/index.js';
import { codeOf } from '../../helpers/error-code.js';

const REAL = JSON.parse(readFileSync(resolve(import.meta.dirname, 'fixtures/trustee-milan-v3-quote.json'), 'utf8')) as { message: string; signature: string; pcrs: string[] };
const message = () => Buffer.from(REAL.message, 'hex');

describe('TPMS_ATTEST (TPM 2.0 Part 2) on a real Azure vTPM quote', () => {
  it('decodes every field of the quote big-endian', () => {
    const a = parseQuoteAttest(message());
    expect(a.qualifiedSigner.length).toBe(34);
    expect(a.qualifiedSigner.readUInt16BE(0)).toBe(TPM_ALG.sha256);
    expect(a.extraData.length).toBe(48);
    expect(a.clockInfo).toEqual({ clock: 0x13cb0ee6n, resetCount: 2, restartCount: 0, safe: true });
    expect(a.firmwareVersion).toBe(0x2020031200120003n);
    expect(a.pcrSelection).toEqual([{ hash: 'sha256', sizeofSelect: 3, pcrs: Array.from({ length: 24 }, (_, i) => i) }]);
    expect(a.pcrDigest.toString('hex')).toBe('2304510eb15046d5c940e957b6ac93bc805e3ffcadb38e0a1b95442e552cb004');
  });

  it("the simulator's encoder re-creates the real quote byte for byte", () => {
    const a = parseQuoteAttest(message());
    const again = encodeQuoteAttest({ ...a, selection: a.pcrSelection });
    expect(again.equals(message())).toBe(true);
  });

  it('truncation at every length and trailing bytes are typed errors', () => {
    const m = message();
    for (let n = 0; n < m.length; n++) {
      expect(['ERR_TPM_ATTEST_MALFORMED', 'ERR_TPM_QUOTE_MAGIC']).toContain(codeOf(() => parseQuoteAttest(m.subarray(0, n))));
    }
    expect(codeOf(() => parseQuoteAttest(Buffer.concat([m, Buffer.from([0])])))).toBe('ERR_TPM_ATTEST_MALFORMED');
  });

  it('oversized TPM2B fields, a bad clockInfo.safe and bad selections are refused', () => {
    const m = message();
    const big = Buffer.from(m);
    big.writeUInt16BE(67, 6);
    expect(codeOf(() => parseQuoteAttest(big))).toBe('ERR_TPM_ATTEST_MALFORMED');
    const safeAt = 6 + 2 + 34 + 2 + 48 + 16;
    const safe = Buffer.from(m);
    safe[safeAt] = 2;
    expect(codeOf(() => parseQuoteAttest(safe))).toBe('ERR_TPM_ATTEST_MALFORMED');
    const selAt = safeAt + 1 + 8;
    const bank = Buffer.from(m);
    bank.writeUInt16BE(0x0012, selAt + 4);
    expect(codeOf(() => parseQuoteAttest(bank))).toBe('ERR_TPM_PCR_SELECTION');
    const count = Buffer.from(m);
    count.writeUInt32BE(9, selAt);
    expect(codeOf(() => parseQuoteAttest(count))).toBe('ERR_TPM_PCR_SELECTION');
  });

  it('a bank selected twice is refused', () => {
    const digest = Buffer.alloc(32);
    const twice = encodeQuoteAttest({
      qualifiedSigner: Buffer.alloc(0),
      extraData: Buffer.alloc(0),
      clockInfo: { clock: 1n, resetCount: 0, restartCount: 0, safe: true },
      firmwareVersion: 0n,
      selection: [{ hash: 'sha256', pcrs: [0] }, { hash: 'sha256', pcrs: [1] }],
      pcrDigest: digest,
    });
    expect(codeOf(() => parseQuoteAttest(twice))).toBe('ERR_TPM_PCR_SELECTION');
  });

  it('pcrSelect bitmaps: bit j of byte i is PCR 8i+j', () => {
    expect(bitmapToIndices(Buffer.from([0x81, 0x00, 0x01]))).toEqual([0, 7, 16]);
    expect(bitmapToIndices(Buffer.from([0xff, 0xff, 0xff]))).toHaveLength(24);
  });
});

describe('TPMT_SIGNATURE', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ak = createPublicKey(privateKey);
  const msg = Buffer.from('attest');

  it('RSASSA: as TPMT_SIGNATURE or as bare bytes (trustee form)', () => {
    const raw = sign('sha256', msg, privateKey);
    const tpmt = encodeRsassaSignature('sha256', raw);
    expect(parseTpmtSignature(tpmt)).toEqual({ scheme: 'rsassa', hash: 'sha256', sig: raw });
    expect(decodeQuoteSignature(raw, ak)).toEqual({ scheme: 'rsassa', hash: 'sha256', sig: raw });
    expect(verifyTpmSignature(msg, decodeQuoteSignature(tpmt, ak), ak)).toBe(true);
    expect(verifyTpmSignature(Buffer.from('other'), decodeQuoteSignature(tpmt, ak), ak)).toBe(false);
  });

  it('RSAPSS with SHA-384 verifies', () => {
    const sig = sign('sha384', msg, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
    const tpmt = Buffer.concat([Buffer.from([0x00, 0x16, 0x00, 0x0c, 0x01, 0x00]), sig]);
    const parsed = parseTpmtSignature(tpmt);
    expect(parsed).toMatchObject({ scheme: 'rsapss', hash: 'sha384' });
    expect(verifyTpmSignature(msg, parsed, ak)).toBe(true);
  });

  it('ECDSA P-256 verifies from r and s; an RSA key does not verify it', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const p1363 = sign('sha256', msg, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    const tpm2b = (b: Buffer) => Buffer.concat([Buffer.from([0, b.length]), b]);
    const tpmt = Buffer.concat([Buffer.from([0x00, 0x18, 0x00, 0x0b]), tpm2b(p1363.subarray(0, 32)), tpm2b(p1363.subarray(32))]);
    const parsed = parseTpmtSignature(tpmt);
    expect(verifyTpmSignature(msg, parsed, ec.publicKey)).toBe(true);
    expect(verifyTpmSignature(msg, parsed, ak)).toBe(false);
  });

  it('unknown schemes, SHA-1, truncation and trailing bytes are ERR_TPM_SIGNATURE_MALFORMED', () => {
    const raw = sign('sha256', msg, privateKey);
    const tpmt = encodeRsassaSignature('sha256', raw);
    const hmac = Buffer.from(tpmt);
    hmac.writeUInt16BE(0x0005, 0);
    const sha1 = Buffer.from(tpmt);
    sha1.writeUInt16BE(0x0004, 2);
    for (const bad of [hmac, sha1, tpmt.subarray(0, 100), Buffer.concat([tpmt, Buffer.from([0])]), Buffer.alloc(0)]) {
      expect(codeOf(() => parseTpmtSignature(bad))).toBe('ERR_TPM_SIGNATURE_MALFORMED');
    }
    const result = verifyTpmQuote({ message: message(), signature: hmac }, { ak, nonce: Buffer.alloc(0), pcrs: {} });
    expect(result.errors.map((e) => e.code)).toEqual(['ERR_TPM_SIGNATURE_MALFORMED']);
  });
});

describe('PCR values as users supply them', () => {
  it('accepts {index: hex}, {bank: {index: hex}} and arrays by index', () => {
    expect(parsePcrValues({ '0': '00'.repeat(32) }).sha256?.get(0)?.length).toBe(32);
    expect(parsePcrValues({ '3': 'ab'.repeat(48) }).sha384?.get(3)?.length).toBe(48);
    expect(parsePcrValues({ sha1: { '10': '11'.repeat(20) } }).sha1?.get(10)?.length).toBe(20);
    expect(parsePcrValues(REAL.pcrs).sha256?.size).toBe(24);
  });

  it('refuses what it cannot read with ERR_INPUT', () => {
    for (const bad of [null, 'x', { '0': 'zz' }, { a: '00'.repeat(32) }, { '0': '00'.repeat(32), '1': '00'.repeat(20) }, { '999': '00'.repeat(32) }, { sha256: [1] }, [1, 2]]) {
      expect(codeOf(() => parsePcrValues(bad))).toBe('ERR_INPUT');
    }
  });
});
