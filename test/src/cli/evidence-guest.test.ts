import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { toPem } from '../../../attestation/snp/certificate.js';
import { type SimVtpmCa, SimulatedVtpm, simulatedGuestRequest, simulatedVtpmCa } from '../../../simulator/azure/index.js';
import { SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../../simulator/index.js';
import { cli } from '../../helpers/cli.js';

/** `zt4ai evidence verify` on a saved AzureGuest request (AttestationInfo), offline, with the simulator's roots. */
const dir = mkdtempSync(join(tmpdir(), 'zt4ai-guest-cli-'));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
let info: Record<string, unknown>;
let roots: string;
let ca: SimVtpmCa;
beforeAll(async () => {
  const r = await createSimulatedRoots({ seed: 'guest cli' });
  roots = file('roots.pem', simulatedRootsPem(r));
  const firmware = new SimulatedFirmware({ root: r.Milan });
  const x = firmware.getExtendedReport(Buffer.alloc(64));
  ca = await simulatedVtpmCa();
  info = (await simulatedGuestRequest({ vtpm: await SimulatedVtpm.create({ firmware }), akCa: ca, vcekChainPem: toPem(x.endorsement) + toPem(x.intermediate) + toPem(x.ark) })).attestationInfo;
});

describe('zt4ai evidence verify --report <AzureGuest request>', () => {
  it('verifies the JSON, its base64url and the request body alike (exit 0), with the claims MAA would issue', async () => {
    const b64u = Buffer.from(JSON.stringify(info)).toString('base64url');
    for (const [name, content] of [['info.json', JSON.stringify(info)], ['info.b64u', b64u], ['body.json', JSON.stringify({ AttestationInfo: b64u })]] as const) {
      const r = await cli(['evidence', 'verify', '--report', file(name, content), '--sim-roots', roots, '--offline', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ ok: true, format: 'azure-guest', simulated: true, claims: { 'x-ms-attestation-type': 'azurevm', secureboot: true, 'x-zt4ai-ak-cert-verified': false } });
    }
    const text = await cli(['evidence', 'verify', '--report', file('info2.json', JSON.stringify(info)), '--sim-roots', roots, '--offline']);
    expect(text.stdout).toMatch(/^GENUINE: .*\n {2}Azure Attestation AzureGuest request/);
  });

  it('judges the AK certificate with --ak-cert-anchors', async () => {
    const ok = await cli(['evidence', 'verify', '--report', file('a.json', JSON.stringify(info)), '--sim-roots', roots, '--offline', '--ak-cert-anchors', file('ca.pem', ca.pem), '--json']);
    expect(ok.json()).toMatchObject({ ok: true, claims: { 'x-zt4ai-ak-cert-verified': true } });
    const other = await simulatedVtpmCa();
    const bad = await cli(['evidence', 'verify', '--report', file('b.json', JSON.stringify(info)), '--sim-roots', roots, '--offline', '--ak-cert-anchors', file('other.pem', other.pem), '--json']);
    expect(bad.code).toBe(1);
    expect((bad.json() as { errors: Array<{ code: string }> }).errors.map((e) => e.code)).toEqual(['ERR_AK_CERT']);
  });

  it('tampered evidence is rejected (exit 1) with its code; without the simulator roots it is not genuine either', async () => {
    const tpm = info.TpmInfo as { PCRs: Array<{ Digest: string }> };
    const tampered = { ...info, TpmInfo: { ...tpm, PCRs: tpm.PCRs.map((p, i) => (i === 3 ? { ...p, Digest: Buffer.alloc(32, 3).toString('base64') } : p)) } };
    const r = await cli(['evidence', 'verify', '--report', file('t.json', JSON.stringify(tampered)), '--sim-roots', roots, '--offline', '--json']);
    expect(r.code).toBe(1);
    expect((r.json() as { errors: Array<{ code: string }> }).errors.map((e) => e.code)).toEqual(['ERR_TPM_PCR_DIGEST']);
    expect((await cli(['evidence', 'verify', '--report', file('u.json', JSON.stringify(info)), '--offline', '--json'])).code).toBe(1);
  });

  it('usage errors are exit 2: HCL quote flags, an unreadable request, anchors for a plain report', async () => {
    expect((await cli(['evidence', 'verify', '--report', file('q.json', JSON.stringify(info)), '--nonce', '00'])).code).toBe(2);
    expect((await cli(['evidence', 'verify', '--report', file('m.json', JSON.stringify({ ...info, IsolationInfo: 1 }))])).code).toBe(2);
    expect((await cli(['evidence', 'verify', '--report', file('plain.bin', Buffer.alloc(1184)), '--ak-cert-anchors', file('ca2.pem', ca.pem)])).code).toBe(2);
  });
});
