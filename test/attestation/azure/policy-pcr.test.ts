import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { marshalPcrSelection, policyPcrDigest } from '../../../attestation/azure/policy-pcr.js';
import { codeOf } from '../../helpers/error-code.js';

/*
 * Vectors from a real TPM 2.0 (swtpm 0.7.1 / libtpms, tpm2-tools 5.4, no resource manager):
 *   swtpm socket --tpmstate dir=$D --tpm2 --server type=tcp,port=$P --ctrl type=tcp,port=$((P+1)) --flags not-need-init,startup-clear
 *   export TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=$P
 *   for i in 0..7: tpm2_pcrextend $i:sha1=$(printf pcr$i | sha1sum),sha256=$(printf pcr$i | sha256sum)
 *   tpm2_pcrread sha256:0,1,2,3,4,5,6,7 -o pcrs256.bin ; tpm2_pcrread sha1:0,1,2 -o pcrs1.bin
 *   tpm2_createpolicy --policy-pcr -l sha256:0,1,2,3,4,5,6,7 -f pcrs256.bin -L p256.dat
 *   tpm2_createpolicy --policy-pcr -g sha384 -l sha256:0,1,2,3,4,5,6,7 -f pcrs256.bin -L p384.dat
 *   tpm2_createpolicy --policy-pcr -g sha256 -l sha1:0,1,2 -f pcrs1.bin -L p1.dat
 *   (tpm2_flushcontext -l after each createpolicy: without a resource manager each leaves its trial session loaded,
 *   and the fourth fails with TPM_RC_SESSION_MEMORY)
 * pcrs*.bin are the raw PCR values concatenated by ascending index; p*.dat are the raw policy digests.
 */
const SHA256_PCRS_0_7 =
  'c2b73611c7fcb8c0581e0096a2694bf89bf5c5b9d226335325661541e17d370b95c8c6df6090fa6e21c6836766a8fbb04a5d3e97417ec2c238ada20e075517dcf296c49d70fcde191cc6da122509a47f2cee7c5d6a22af29cd3d4ae93f0b0cb0419937f30b776bdd9d9467fd25da9748e4f788ed60b36433d7375cdd838d7f5a5dba2e10dba5299f3e128449006cf1a350343fcd096fd5417b8e36da0b2bbd1b28d2efe84a7b1b131d2bfe2566eac58a471e781d4160567b17a41a047e1383ec97e9c9d95543c27239281ab9e63b8c23e90ba699582c9df08d3b090b06c81e7b5c39bc4a545e4c418b3907b6bce2d75cbd7a828e01654155ff460d35a177ca90';
const SHA1_PCRS_0_2 = 'd1121fbed7c312fdeb44d675b972608ad4d85940a9b09c397778558c68cbbd6583f75f9115b75f94628cb1fb418f8d9996eff022c5a559715130c443';
const POLICY_SHA256 = '1f15cf36db02025e236678a476529a7b1310b037b590eb3f529681ed043db71d';
const POLICY_SHA384_OVER_SHA256_BANK = '0a262511dad262dfde2bbcfacaea090fb0ca186d1476d9dc47d128d5229f1400f539e396c957e8e0578226bfbdb215c2';
const POLICY_SHA256_OVER_SHA1_BANK = '70c9d853d1bf8fa5e5a5784b8c0e9d8667ae99e40b77103e081b21b24b5e8e46';

const split = (hex: string, size: number): Buffer[] => Array.from({ length: hex.length / (2 * size) }, (_, i) => Buffer.from(hex.slice(2 * size * i, 2 * size * (i + 1)), 'hex'));
const PCRS = [0, 1, 2, 3, 4, 5, 6, 7];

describe('TPM2_PolicyPCR digest against swtpm', () => {
  const values = split(SHA256_PCRS_0_7, 32);

  it('equals tpm2_createpolicy --policy-pcr for sha256:0-7', () => {
    expect(policyPcrDigest('sha256', { hash: 'sha256', pcrs: PCRS }, values).toString('hex')).toBe(POLICY_SHA256);
  });

  it('hashes the PCR values with the session hash, not the bank hash', () => {
    expect(policyPcrDigest('sha384', { hash: 'sha256', pcrs: PCRS }, values).toString('hex')).toBe(POLICY_SHA384_OVER_SHA256_BANK);
    expect(policyPcrDigest('sha256', { hash: 'sha1', pcrs: [0, 1, 2] }, split(SHA1_PCRS_0_2, 20)).toString('hex')).toBe(POLICY_SHA256_OVER_SHA1_BANK);
  });

  it('orders values by PCR index whatever order they are listed in', () => {
    const reversed = [...PCRS].reverse();
    expect(policyPcrDigest('sha256', { hash: 'sha256', pcrs: reversed }, [...values].reverse()).toString('hex')).toBe(POLICY_SHA256);
    const swapped = [values[1]!, values[0]!, ...values.slice(2)];
    expect(policyPcrDigest('sha256', { hash: 'sha256', pcrs: PCRS }, swapped).toString('hex')).not.toBe(POLICY_SHA256);
  });

  it('a changed PCR value or selection size changes the digest', () => {
    const changed = values.map((v, i) => (i === 7 ? Buffer.alloc(32) : v));
    expect(policyPcrDigest('sha256', { hash: 'sha256', pcrs: PCRS }, changed).toString('hex')).not.toBe(POLICY_SHA256);
    expect(policyPcrDigest('sha256', { hash: 'sha256', pcrs: PCRS, sizeofSelect: 4 }, values).toString('hex')).not.toBe(POLICY_SHA256);
  });

  it('refuses inconsistent input with ERR_INPUT', () => {
    const sel = { hash: 'sha256', pcrs: PCRS } as const;
    expect(codeOf(() => policyPcrDigest('sha256', sel, values.slice(1)))).toBe('ERR_INPUT');
    expect(codeOf(() => policyPcrDigest('sha256', sel, [...values.slice(1), Buffer.alloc(20)]))).toBe('ERR_INPUT');
    expect(codeOf(() => policyPcrDigest('sha256', { hash: 'sha256', pcrs: [1, 1] }, [values[0]!, values[0]!]))).toBe('ERR_INPUT');
    expect(codeOf(() => policyPcrDigest('sha256', { hash: 'sha256', pcrs: [30], sizeofSelect: 3 }, [values[0]!]))).toBe('ERR_INPUT');
    expect(codeOf(() => policyPcrDigest('sha256', { hash: 'sha256', pcrs: [-1] }, [values[0]!]))).toBe('ERR_INPUT');
    expect(codeOf(() => policyPcrDigest('sha256', { hash: 'sha256', pcrs: [0], sizeofSelect: 0 }, [values[0]!]))).toBe('ERR_INPUT');
  });
});

describe('TPML_PCR_SELECTION marshalling', () => {
  it('is count, hash, sizeofSelect and a little-endian-by-bit bitmap, big-endian', () => {
    expect(marshalPcrSelection([{ hash: 'sha256', pcrs: PCRS }]).toString('hex')).toBe('00000001000b03ff0000');
    expect(marshalPcrSelection([{ hash: 'sha1', pcrs: [0, 9, 23] }, { hash: 'sha384', pcrs: [] }]).toString('hex')).toBe('00000002000403010280000c03000000');
  });

  it('grows the bitmap past three bytes only for PCRs above 23', () => {
    expect(marshalPcrSelection([{ hash: 'sha256', pcrs: [24] }]).toString('hex')).toBe('00000001000b0400000001');
    expect(marshalPcrSelection([{ hash: 'sha256', pcrs: [1], sizeofSelect: 1 }]).toString('hex')).toBe('00000001000b0102');
  });

  it('the digest is exactly H(zeros || TPM_CC_PolicyPCR || selection || H(values))', () => {
    const values = split(SHA256_PCRS_0_7, 32);
    const manual = createHash('sha256')
      .update(Buffer.alloc(32))
      .update(Buffer.from('0000017f', 'hex'))
      .update(marshalPcrSelection([{ hash: 'sha256', pcrs: PCRS }]))
      .update(createHash('sha256').update(Buffer.concat(values)).digest())
      .digest('hex');
    expect(manual).toBe(POLICY_SHA256);
  });
});
