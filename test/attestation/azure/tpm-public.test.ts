import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TPM_ALG } from '../../../attestation/azure/tpm-constants.js';
import { parseTpm2bPublic, parseTpmtPublic, tpmObjectName } from '../../../attestation/azure/tpm-public.js';
import { codeOf } from '../../helpers/error-code.js';

/*
 * TPM2B_PUBLIC vectors from swtpm 0.7.1 (libtpms) with tpm2-tools 5.4, after the PCR extends and policy of
 * policy-pcr.test.ts (tpm2_createpolicy --policy-pcr -l sha256:0,1,2,3,4,5,6,7 -f pcrs.bin -L policy.dat):
 *   tpm2_createprimary -C n -G rsa2048:null:null -g sha256 -a 'fixedtpm|fixedparent|sensitivedataorigin|decrypt|noda' -L policy.dat -c key.ctx
 *   tpm2_createprimary -C o -G rsa2048:rsassa-sha256:null -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign' -c ak.ctx
 *   tpm2_createprimary -C o -G rsa2048:null:aes128cfb -g sha256 -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|decrypt' -c srk.ctx
 *   tpm2_readpublic -c X.ctx -o X.pub -n X.name   (-o writes a marshalled TPM2B_PUBLIC; -n the raw TPM2B_NAME contents)
 *   (tpm2_flushcontext -t after each command: without a resource manager every tool leaves its objects loaded)
 */
const KEY_PUB =
  '01360001000b0002043200201f15cf36db02025e236678a476529a7b1310b037b590eb3f529681ed043db71d0010001008000000000001009a83d462cb472c714cc46797083217f2a9718f63cab5316d7163943b76a5efe2e93226dab11552d016cc9a23461da456e3eadf606a954a0cf28857999429e5afc7fbbaadd92ec2c0d34d21ec869a9a9e659069d41071cdf704b825a36ade4ffdddc800798bab32f894a129cbcb0236a4102aa9b4e391757e96239f7d6eb88b747f7c022947f233dc761091189911eb14ee179051a09d30298df7e5220918283e39470bcd86477b321d287b9e4b0583a1c09802a52efbd974d2054c7acc516de3a381b7c24de0a66bfb1bd141d628c73b232012a59bfaa80e70078679e904bf35d2121839ac9fb871581ff7897e3b1a7f4245e716ed1b893006f0619c5f56cb8b';
const KEY_NAME = '000b5cd9449b1d6a388dbd43b36ee222694de9cd336ca5b68fedcdf91656ae8ccba2';
const POLICY = '1f15cf36db02025e236678a476529a7b1310b037b590eb3f529681ed043db71d';
const AK_PUB =
  '01180001000b00050072000000100014000b0800000000000100a1934e3c65edea242a0877039e4ecc963285e40f80d00c3e42837a2a7bfbeeb9d3d73ac6574382abbb2502770c82a96c5bed089fbbca3e2738648ae88e2490d170c03a947b15e7c7c2e333b0a33272a8d372e3a36ff42cd3abf433fc5bac677e073d41f2a3b82ef272fb9350ffc15bc352802f8bb91d326525d130128810b9cb851e53d6950721bce0aed4142e9a5bfdc809d06b932302da0ee4343db32452cbfb9b1d2d94002731d8a134bdf997d4536d3aaa537c776586cd8573ea80f2fbaf1e43706683eaf33ab90a79dc599a72f9daaac456968918f4125dbb940332c9a759cac3c3710cc32fe381f13e2e85837f28f4e3097e5ff1997d52f8814e606cb1';
const AK_NAME = '000b7700ffeabca3a3a8963b55ace45170edd8a9176c97a5695ccbd2da3c0f77ed97';
const SRK_PUB =
  '011a0001000b0003007200000006008000430010080000000000010087b526ae309afa4db98a8ad5e0467c8e1e44668a16d3c27699b3f84be0d589c826f1c8eed9de94b6c854f283f4e919c2651cd120f89e634c88a1e6ba10bbf267b70a529122587eb13f9dd8a08841ae7646709c03221abd7da85fb9c1c64ee003bc609f6247cbed5f08140283ea774a1d564c488f8e1f60f489eaffbe638bc754aa74e6f2d5bbaa09fb90efdee2a32429d575eb6be7b80df952c83b6cf704ecd7c445ecb6b9b8bf2eadd7ceda8d60d69d33f3a27d403e289668f01f421d31832dc3f520ff9fe25b14efb93cea63d4b621f77a86a97b0ad577e70673ca777229e5370fbdd7371ed24eb219875ee97a589953aff9c84e2df72712721b72e73ebf4d';
const SRK_NAME = '000bf98c99ce6b9dd8c9b8e2b0b7b5febbccdf10ffc29dd99d6b4995c1b1c9d1cf16';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');

/** A TPMT_PUBLIC of an unrestricted RSA key with the given fields, for inputs swtpm would never produce. */
function tpmtRsa(f: { type?: number; nameAlg?: number; attributes?: number; policy?: Buffer; scheme?: Buffer; keyBits?: number; exponent?: number; modulus: Buffer }): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(f.type ?? TPM_ALG.rsa, 0);
  head.writeUInt16BE(f.nameAlg ?? TPM_ALG.sha256, 2);
  head.writeUInt32BE(f.attributes ?? 0x00060072, 4);
  const policy = f.policy ?? Buffer.alloc(0);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(f.keyBits ?? f.modulus.length * 8, 0);
  tail.writeUInt32BE(f.exponent ?? 0, 2);
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  return Buffer.concat([head, u16(policy.length), policy, u16(TPM_ALG.null), f.scheme ?? u16(TPM_ALG.null), tail, u16(f.modulus.length), f.modulus]);
}
const tpm2b = (b: Buffer): Buffer => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);

describe('TPM2B_PUBLIC from swtpm (tpm2_readpublic -o)', () => {
  it('decodes the PCR-policy decryption key and computes the Name tpm2_readpublic -n reports', () => {
    const pub = parseTpm2bPublic(hex(KEY_PUB));
    expect(pub.type).toBe('rsa');
    expect(pub.nameAlg).toBe('sha256');
    expect(pub.objectAttributes).toBe(0x00020432);
    expect(pub.attributes).toEqual({
      fixedTPM: true,
      stClear: false,
      fixedParent: true,
      sensitiveDataOrigin: true,
      userWithAuth: false,
      adminWithPolicy: false,
      noDA: true,
      encryptedDuplication: false,
      restricted: false,
      decrypt: true,
      sign: false,
    });
    expect(pub.authPolicy.toString('hex')).toBe(POLICY);
    expect(pub.rsa).toMatchObject({ symmetric: TPM_ALG.null, scheme: TPM_ALG.null, schemeHash: null, keyBits: 2048, exponent: 65537 });
    expect(pub.raw.equals(hex(KEY_PUB).subarray(2))).toBe(true);
    expect(pub.name.toString('hex')).toBe(KEY_NAME);
    expect(tpmObjectName('sha256', pub.raw).toString('hex')).toBe(KEY_NAME);
  });

  it('builds a node key whose modulus and exponent are the TPM key', () => {
    const pub = parseTpm2bPublic(hex(KEY_PUB));
    const jwk = pub.key.export({ format: 'jwk' });
    expect(pub.key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(Buffer.from(jwk.n ?? '', 'base64url').equals(pub.rsa.modulus)).toBe(true);
    expect(jwk.e).toBe('AQAB');
  });

  it('decodes the restricted RSASSA-SHA256 AK', () => {
    const ak = parseTpm2bPublic(hex(AK_PUB));
    expect(ak.attributes).toMatchObject({ restricted: true, sign: true, decrypt: false, userWithAuth: true, fixedTPM: true });
    expect(ak.rsa).toMatchObject({ scheme: TPM_ALG.rsassa, schemeHash: TPM_ALG.sha256, symmetric: TPM_ALG.null });
    expect(ak.authPolicy.length).toBe(0);
    expect(ak.name.toString('hex')).toBe(AK_NAME);
  });

  it('reads past the AES-128-CFB symmetric definition of a storage key', () => {
    const srk = parseTpm2bPublic(hex(SRK_PUB));
    expect(srk.rsa).toMatchObject({ symmetric: 0x0006, scheme: TPM_ALG.null, keyBits: 2048 });
    expect(srk.attributes).toMatchObject({ restricted: true, decrypt: true, sign: false });
    expect(srk.name.toString('hex')).toBe(SRK_NAME);
  });
});

describe('TPM2B_PUBLIC refusals', () => {
  const key = hex(KEY_PUB);

  it('truncation at every length, a wrong size and trailing bytes are ERR_TPM_PUBLIC_MALFORMED', () => {
    for (let n = 0; n < key.length; n++) expect(codeOf(() => parseTpm2bPublic(key.subarray(0, n)))).toBe('ERR_TPM_PUBLIC_MALFORMED');
    expect(codeOf(() => parseTpm2bPublic(Buffer.concat([key, Buffer.from([0])])))).toBe('ERR_TPM_PUBLIC_MALFORMED');
    const short = Buffer.from(key);
    short.writeUInt16BE(key.length - 3, 0);
    expect(codeOf(() => parseTpm2bPublic(short))).toBe('ERR_TPM_PUBLIC_MALFORMED');
    expect(codeOf(() => parseTpm2bPublic(Buffer.from([0, 0])))).toBe('ERR_TPM_PUBLIC_MALFORMED');
  });

  it('a modulus that does not match keyBits, reserved attributes and a wrong-size policy are malformed', () => {
    const bits = Buffer.from(key);
    bits.writeUInt16BE(3072, 2 + 8 + 2 + 32 + 4);
    expect(codeOf(() => parseTpm2bPublic(bits))).toBe('ERR_TPM_PUBLIC_MALFORMED');
    const reserved = Buffer.from(key);
    reserved.writeUInt32BE(0x00020432 | 0x8, 2 + 4);
    expect(codeOf(() => parseTpm2bPublic(reserved))).toBe('ERR_TPM_PUBLIC_MALFORMED');
    const modulus = parseTpm2bPublic(key).rsa.modulus;
    expect(codeOf(() => parseTpmtPublic(tpmtRsa({ modulus, policy: Buffer.alloc(20) })))).toBe('ERR_TPM_PUBLIC_MALFORMED');
    expect(codeOf(() => parseTpmtPublic(tpmtRsa({ modulus, exponent: 4 })))).toBe('ERR_TPM_PUBLIC_MALFORMED');
    expect(codeOf(() => parseTpmtPublic(tpmtRsa({ modulus: Buffer.alloc(0), keyBits: 0 })))).toBe('ERR_TPM_PUBLIC_MALFORMED');
  });

  it('ECC, keyed-hash and NULL-nameAlg objects are ERR_TPM_PUBLIC_UNSUPPORTED', () => {
    for (const type of [0x0023, 0x0008, 0x0025]) {
      const other = Buffer.from(key);
      other.writeUInt16BE(type, 2);
      expect(codeOf(() => parseTpm2bPublic(other))).toBe('ERR_TPM_PUBLIC_UNSUPPORTED');
    }
    const modulus = parseTpm2bPublic(key).rsa.modulus;
    expect(codeOf(() => parseTpm2bPublic(tpm2b(tpmtRsa({ modulus, nameAlg: TPM_ALG.null }))))).toBe('ERR_TPM_PUBLIC_UNSUPPORTED');
  });
});

describe('TPMT_PUBLIC built from a node key', () => {
  it('an explicit exponent and an RSAPSS/SHA-384 scheme round-trip into the same key', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    const modulus = Buffer.from(publicKey.export({ format: 'jwk' }).n ?? '', 'base64url');
    const scheme = Buffer.from([0x00, 0x16, 0x00, 0x0c]);
    const pub = parseTpm2bPublic(tpm2b(tpmtRsa({ modulus, exponent: 3, scheme, nameAlg: TPM_ALG.sha1 })));
    expect(pub.rsa).toMatchObject({ exponent: 3, scheme: TPM_ALG.rsapss, schemeHash: TPM_ALG.sha384 });
    expect(pub.key.export({ format: 'jwk' })).toEqual(publicKey.export({ format: 'jwk' }));
    expect(pub.name.subarray(0, 2).toString('hex')).toBe('0004');
    expect(pub.name.subarray(2).equals(createHash('sha1').update(pub.raw).digest())).toBe(true);
  });

  it('RSAES carries no scheme hash', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const modulus = Buffer.from(publicKey.export({ format: 'jwk' }).n ?? '', 'base64url');
    const pub = parseTpmtPublic(tpmtRsa({ modulus, scheme: Buffer.from([0x00, 0x15]) }));
    expect(pub.rsa).toMatchObject({ scheme: TPM_ALG.rsaes, schemeHash: null, exponent: 65537 });
  });
});
