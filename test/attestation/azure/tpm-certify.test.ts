import { verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCertifyAttest } from '../../../attestation/azure/tpm-certify.js';
import { parseTpm2bPublic } from '../../../attestation/azure/tpm-public.js';
import { parseTpmtSignature, verifyTpmSignature } from '../../../attestation/azure/tpm-signature.js';
import { parseQuoteAttest } from '../../../attestation/azure/tpm-structures.js';
import { codeOf } from '../../helpers/error-code.js';

/*
 * A real TPM2_Certify from swtpm 0.7.1 (libtpms) and tpm2-tools 5.4: key.ctx is the PCR-policy decryption key
 * and ak.ctx the AK of tpm-public.test.ts (same commands), then
 *   tpm2_certify -c key.ctx -C ak.ctx -g sha256 -o attest.bin -s sig.bin -f plain
 *   tpm2_readpublic -c key.ctx -o key.pub -q key.qname ; tpm2_readpublic -c ak.ctx -o ak.pub -q ak.qname
 * attest.bin is the bare TPMS_ATTEST (no TPM2B size); with -f plain sig.bin is the bare 256-byte RSASSA
 * signature, without -f it is a TPMT_SIGNATURE (0014 000b 0100 ...). tpm2-tools 5.4 has no qualifying-data
 * option for certify and always sends 00ff55aa. The AK is in the owner hierarchy, so the TPM obfuscates
 * resetCount, restartCount and firmwareVersion (Part 1 "Privacy"): they are not the TPM's real counters.
 */
const ATTEST =
  'ff54434780170022000b9f473242a595b5a377ca70efb82a7b19fe2f14aedbc3793ab20a8641f7aa8a38000400ff55aa000000000000252696e5a047bf5054680106107d919d05a6eb0022000b5cd9449b1d6a388dbd43b36ee222694de9cd336ca5b68fedcdf91656ae8ccba20022000ba8b3fb29ef398a3ef7645c61201115a86db3660145d27c29145e85aacc0416ee';
const SIG_PLAIN =
  '86228090f6efd40042598ba5d4fac72d55f3b593357ab676d820a7e21b84f3a173359001338b2a099fd7c4bf3daf25285ba3eed3ffb0b843da67a0fd90503ad8138f28c2e6f9951a00e5ff13b9d06e5f1b331272ca282db1840cb86ee570881efa6c5dff50dc8316f78984dcc760cfd3fec33ab861a92713852492ce94fa927669d14bede2c272304c5b4586b6aee1c69db27f0a6d087e60684df480763e986a36a5b045075705bb1d3ec67b4d89c010d2bde59ce8328794751eff3f3c05460bff8091a917e18e5fb426fd73326337247070bfcbd6395e77d3cd5a8e9f4e22102040720b7e7cf6818ad362a27a83044e9e4a83d85133a0dae943d4a5da7c95bd';
const KEY_PUB =
  '01360001000b0002043200201f15cf36db02025e236678a476529a7b1310b037b590eb3f529681ed043db71d0010001008000000000001009a83d462cb472c714cc46797083217f2a9718f63cab5316d7163943b76a5efe2e93226dab11552d016cc9a23461da456e3eadf606a954a0cf28857999429e5afc7fbbaadd92ec2c0d34d21ec869a9a9e659069d41071cdf704b825a36ade4ffdddc800798bab32f894a129cbcb0236a4102aa9b4e391757e96239f7d6eb88b747f7c022947f233dc761091189911eb14ee179051a09d30298df7e5220918283e39470bcd86477b321d287b9e4b0583a1c09802a52efbd974d2054c7acc516de3a381b7c24de0a66bfb1bd141d628c73b232012a59bfaa80e70078679e904bf35d2121839ac9fb871581ff7897e3b1a7f4245e716ed1b893006f0619c5f56cb8b';
const KEY_QNAME = '000ba8b3fb29ef398a3ef7645c61201115a86db3660145d27c29145e85aacc0416ee';
const AK_PUB =
  '01180001000b00050072000000100014000b0800000000000100a1934e3c65edea242a0877039e4ecc963285e40f80d00c3e42837a2a7bfbeeb9d3d73ac6574382abbb2502770c82a96c5bed089fbbca3e2738648ae88e2490d170c03a947b15e7c7c2e333b0a33272a8d372e3a36ff42cd3abf433fc5bac677e073d41f2a3b82ef272fb9350ffc15bc352802f8bb91d326525d130128810b9cb851e53d6950721bce0aed4142e9a5bfdc809d06b932302da0ee4343db32452cbfb9b1d2d94002731d8a134bdf997d4536d3aaa537c776586cd8573ea80f2fbaf1e43706683eaf33ab90a79dc599a72f9daaac456968918f4125dbb940332c9a759cac3c3710cc32fe381f13e2e85837f28f4e3097e5ff1997d52f8814e606cb1';
const AK_QNAME = '000b9f473242a595b5a377ca70efb82a7b19fe2f14aedbc3793ab20a8641f7aa8a38';
/** The first six bytes tpm2_certify writes without -f: sigAlg RSASSA, hash SHA-256, size 256 (a 262-byte file). */
const SIG_TPMT_PREFIX = '0014000b0100';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const QUOTE = JSON.parse(readFileSync(resolve(import.meta.dirname, 'fixtures/trustee-milan-v3-quote.json'), 'utf8')) as { message: string };

describe('TPMS_ATTEST of TPM2_Certify from swtpm', () => {
  it('decodes the header and TPMS_CERTIFY_INFO', () => {
    const a = parseCertifyAttest(hex(ATTEST));
    expect(a.qualifiedSigner.toString('hex')).toBe(AK_QNAME);
    expect(a.extraData.toString('hex')).toBe('00ff55aa');
    expect(a.clockInfo).toEqual({ clock: 0x2526n, resetCount: 0x96e5a047, restartCount: 0xbf505468, safe: true });
    expect(a.firmwareVersion).toBe(0x06107d919d05a6ebn);
    expect(a.qualifiedName.toString('hex')).toBe(KEY_QNAME);
    expect(a.raw.equals(hex(ATTEST))).toBe(true);
  });

  it("names exactly the certified key's TPMT_PUBLIC", () => {
    expect(parseCertifyAttest(hex(ATTEST)).name.equals(parseTpm2bPublic(hex(KEY_PUB)).name)).toBe(true);
    expect(parseCertifyAttest(hex(ATTEST)).name.equals(parseTpm2bPublic(hex(AK_PUB)).name)).toBe(false);
  });

  it('the AK signature (RSASSA-SHA256) verifies with node crypto and fails on any change', () => {
    const ak = parseTpm2bPublic(hex(AK_PUB)).key;
    expect(verify('sha256', hex(ATTEST), ak, hex(SIG_PLAIN))).toBe(true);
    expect(verifyTpmSignature(hex(ATTEST), { scheme: 'rsassa', hash: 'sha256', sig: hex(SIG_PLAIN) }, ak)).toBe(true);
    const swapped = hex(ATTEST);
    swapped.writeUInt8(swapped.readUInt8(swapped.length - 40) ^ 1, swapped.length - 40);
    expect(verify('sha256', swapped, ak, hex(SIG_PLAIN))).toBe(false);
    expect(verify('sha256', hex(ATTEST), parseTpm2bPublic(hex(KEY_PUB)).key, hex(SIG_PLAIN))).toBe(false);
  });

  it("tpm2_certify's default signature format is the plain signature behind a TPMT_SIGNATURE header", () => {
    const ak = parseTpm2bPublic(hex(AK_PUB)).key;
    const tpmt = parseTpmtSignature(Buffer.concat([hex(SIG_TPMT_PREFIX), hex(SIG_PLAIN)]));
    expect(tpmt).toMatchObject({ scheme: 'rsassa', hash: 'sha256' });
    expect(verifyTpmSignature(hex(ATTEST), tpmt, ak)).toBe(true);
  });
});

describe('TPMS_ATTEST certify refusals', () => {
  const m = hex(ATTEST);

  it('truncation at every length and trailing bytes are ERR_TPM_ATTEST_MALFORMED', () => {
    for (let n = 0; n < m.length; n++) expect(codeOf(() => parseCertifyAttest(m.subarray(0, n)))).toBe('ERR_TPM_ATTEST_MALFORMED');
    expect(codeOf(() => parseCertifyAttest(Buffer.concat([m, Buffer.from([0])])))).toBe('ERR_TPM_ATTEST_MALFORMED');
  });

  it('a wrong magic is ERR_TPM_ATTEST_MAGIC, an oversized name is malformed', () => {
    const magic = Buffer.from(m);
    magic[0] = 0;
    expect(codeOf(() => parseCertifyAttest(magic))).toBe('ERR_TPM_ATTEST_MAGIC');
    const nameAt = 6 + 2 + 34 + 2 + 4 + 17 + 8;
    expect(m.readUInt16BE(nameAt)).toBe(34);
    const big = Buffer.from(m);
    big.writeUInt16BE(67, nameAt);
    expect(codeOf(() => parseCertifyAttest(big))).toBe('ERR_TPM_ATTEST_MALFORMED');
  });

  it('a quote is not a certification, and a certification is not a quote', () => {
    expect(codeOf(() => parseCertifyAttest(hex(QUOTE.message)))).toBe('ERR_TPM_CERTIFY_TYPE');
    expect(codeOf(() => parseQuoteAttest(m))).toBe('ERR_TPM_QUOTE_TYPE');
    const magic = Buffer.from(m);
    magic[0] = 0;
    expect(codeOf(() => parseQuoteAttest(magic))).toBe('ERR_TPM_QUOTE_MAGIC');
  });
});
