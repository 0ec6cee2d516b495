import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';

describe('zt4ai demo', () => {
  it('every step ends as the Zero Trust story says it should, with the expected reasons', async () => {
    const r = await cli(['demo', '--json']);
    expect(r.code).toBe(0);
    const out = r.json() as { ok: boolean; steps: Array<{ expected: string; outcome: string; codes: string[] }> };
    expect(out.ok).toBe(true);
    expect(out.steps.map((s) => s.outcome)).toEqual(['accepted', 'rejected', 'rejected', 'rejected', 'accepted', 'accepted', 'accepted', 'rejected', 'rejected', 'rejected']);
    expect(out.steps[1]!.codes).toContain('ERR_CERT_ROOT_UNTRUSTED');
    expect(out.steps[2]!.codes).toEqual(['ERR_SNP_SIGNATURE_INVALID']);
    expect(out.steps[3]!.codes).toEqual(expect.arrayContaining(['ERR_SNP_SIGNATURE_INVALID', 'ERR_SNP_CHIP_ID_MISMATCH']));
    expect(out.steps[4]!.codes).toContain('WARN_DEBUG_ALLOWED');
    expect(out.steps[7]!.codes).toEqual(['x-ms-sevsnpvm-is-debuggable equals false']);
    expect(out.steps[8]!.codes).toEqual(['ERR_RUNTIME_DATA_NOT_BOUND']);
    expect(out.steps[9]!.codes).toEqual(['ERR_NONCE_REPLAYED']);
  });
});
