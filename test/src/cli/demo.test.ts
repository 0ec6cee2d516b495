import { describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';
import { DEMO_PROMPT, DEMO_SAMPLING, demoModelDirect } from '../../helpers/demo-model.js';

describe('zt4ai demo', () => {
  it('every step ends as the Zero Trust story says it should, with the expected reasons', async () => {
    const r = await cli(['demo', '--once', '--json']);
    expect(r.code).toBe(0);
    const out = r.json() as { ok: boolean; steps: Array<{ step: string; expected: string; outcome: string; codes: string[]; detail?: string }> };
    expect(out.ok).toBe(true);
    expect(out.steps.map((s) => s.outcome)).toEqual([
      ...['accepted', 'rejected', 'rejected', 'rejected', 'accepted', 'accepted', 'accepted', 'rejected', 'rejected', 'rejected'],
      // The enclave runner: key and sealed model, start-up, an answer; two guardian blocks; four runners that get nothing.
      ...['accepted', 'accepted', 'accepted', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected'],
    ]);
    expect(out.steps[1]!.codes).toContain('ERR_CERT_ROOT_UNTRUSTED');
    expect(out.steps[2]!.codes).toEqual(['ERR_SNP_SIGNATURE_INVALID']);
    expect(out.steps[3]!.codes).toEqual(expect.arrayContaining(['ERR_SNP_SIGNATURE_INVALID', 'ERR_SNP_CHIP_ID_MISMATCH']));
    expect(out.steps[4]!.codes).toContain('WARN_DEBUG_ALLOWED');
    expect(out.steps[7]!.codes).toEqual(['x-ms-sevsnpvm-is-debuggable equals false']);
    expect(out.steps[8]!.codes).toEqual(['ERR_RUNTIME_DATA_NOT_BOUND']);
    expect(out.steps[9]!.codes).toEqual(['ERR_NONCE_REPLAYED']);
    expect(out.steps[10]!.detail).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/keys\/demo-model-key\/[0-9a-f]{32}$/);
    // The answer comes from the unsealed model: node-llama-cpp gives the same text for the same prompt and sampling.
    expect(out.steps[12]!.detail).toBe(await demoModelDirect(DEMO_PROMPT, DEMO_SAMPLING));
    expect(out.steps[13]!.codes).toEqual(expect.arrayContaining(['zt4ai_guardian_blocked', 'override.ignore-previous']));
    expect(out.steps[14]!.codes).toEqual(expect.arrayContaining(['zt4ai_guardian_blocked', 'extraction.system-prompt']));
    expect([out.steps[15]!.codes, out.steps[15]!.detail]).toEqual([['ERR_RUNNER_MODEL_TAMPERED', 'ERR_SEAL_CHUNK_CORRUPT'], 'unseal']);
    expect([out.steps[16]!.codes, out.steps[16]!.detail]).toEqual([['ERR_RUNNER_RELEASE_DENIED', 'ERR_RELEASE_POLICY_DENIED'], 'release']);
    expect([out.steps[17]!.codes, out.steps[17]!.detail]).toEqual([['ERR_RUNNER_RELEASE_DENIED', 'ERR_RELEASE_POLICY_DENIED'], 'release']);
    // A wrong launch measurement: the policy pins the demo guest's measurement with `in`.
    expect([out.steps[18]!.step, out.steps[18]!.codes, out.steps[18]!.detail]).toEqual(['wrong launch measurement', ['ERR_RUNNER_RELEASE_DENIED', 'ERR_RELEASE_POLICY_DENIED'], 'release']);
  });
});
