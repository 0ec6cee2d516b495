import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteBindingNonce, verifyHclEvidence } from '../../attestation/azure/index.js';
import { parseCertificate } from '../../attestation/snp/certificate.js';
import { trustAnchorsFromPem } from '../../attestation/snp/trust.js';
import { RunnerError } from '../../enclave-runner/errors.js';
import { AzureVtpmSource } from '../../enclave-runner/evidence/azure-vtpm.js';
import { selectEvidenceSource } from '../../enclave-runner/evidence/detect.js';
import type { EvidenceBinding } from '../../enclave-runner/evidence/source.js';
import { HCL_REPORT_NV_INDEX, type PcrSelection, type TpmDevice, type TpmQuoteOutput, USER_DATA_NV_INDEX } from '../../enclave-runner/evidence/tpm-device.js';
import { Tpm2ToolsDevice } from '../../enclave-runner/evidence/tpm2-tools.js';
import { SWTPM_INSTALL_HINT, type SwtpmVtpm, missingSwtpmTools, startSwtpmVtpm } from '../../simulator/azure/index.js';
import { SimulatedFirmware, simulatedRootsPem } from '../../simulator/index.js';
import { type Chain, type FakeServer, chainOf, startFakeKds, startFakeThim } from './azure/fakes.js';
import { roots } from './stack.js';
import { runnerFailure } from './runner-failure.js';

const missing = missingSwtpmTools();
const skipped = missing.length > 0 ? ` (SKIPPED: ${missing.join(', ')} not on PATH; ${SWTPM_INSTALL_HINT})` : '';

/** A port nothing listens on: THIM "down". */
async function closedUrl(): Promise<string> {
  const s = await startFakeThim(null);
  await s.close();
  return s.url;
}

const runtime = (): EvidenceBinding => ({ runtimeData: Buffer.from(JSON.stringify({ keys: [], nonce: 'n', 'x-zt4ai-config': randomBytes(32).toString('hex') })), challenge: randomBytes(57).toString('base64url') });
const reportDataOf = (b: EvidenceBinding): Buffer => Buffer.concat([createHash('sha256').update(b.runtimeData).digest(), Buffer.alloc(32)]);

/** A device in front of the real one that alters what the TPM answered. */
class Tampering implements TpmDevice {
  readonly location: string;
  quotes = 0;
  constructor(
    private readonly inner: TpmDevice,
    private readonly alter: { quote?: (q: TpmQuoteOutput, n: number) => TpmQuoteOutput; nvRead?: (index: number, b: Buffer) => Buffer },
  ) {
    this.location = inner.location;
  }
  nvWrite(index: number, data: Uint8Array): Promise<void> {
    return this.inner.nvWrite(index, data);
  }
  async nvRead(index: number): Promise<Buffer> {
    const b = await this.inner.nvRead(index);
    return this.alter.nvRead ? this.alter.nvRead(index, b) : b;
  }
  async quote(ak: number, nonce: Uint8Array, selection: PcrSelection): Promise<TpmQuoteOutput> {
    const q = await this.inner.quote(ak, nonce, selection);
    this.quotes += 1;
    return this.alter.quote ? this.alter.quote(q, this.quotes) : q;
  }
  pcrRead(selection: PcrSelection): Promise<ReadonlyMap<number, Buffer>> {
    return this.inner.pcrRead(selection);
  }
  readPublic(handle: number): Promise<Buffer> {
    return this.inner.readPublic(handle);
  }
  ephemeralKey(ak: number, selection: PcrSelection): ReturnType<TpmDevice['ephemeralKey']> {
    return this.inner.ephemeralKey(ak, selection);
  }
  ephemeralDecrypt(selection: PcrSelection, ciphertext: Uint8Array, scheme: 'rsaes' | 'oaep'): ReturnType<TpmDevice['ephemeralDecrypt']> {
    return this.inner.ephemeralDecrypt(selection, ciphertext, scheme);
  }
}

const withPcr = (q: TpmQuoteOutput, index: number, value: Buffer): TpmQuoteOutput => ({ ...q, pcrs: new Map([...q.pcrs, [index, value]]) });

describe('AzureVtpmSource on a TPM that is not an Azure vTPM', () => {
  it('stops at the missing HCL report (ERR_RUNNER_TPM_NV_INDEX) without writing to the TPM', async () => {
    const calls: string[] = [];
    const plainTpm: TpmDevice = {
      location: 'device:/dev/tpmrm0',
      nvWrite: async (index) => void calls.push(`write ${index.toString(16)}`),
      nvRead: async (index) => {
        calls.push(`read ${index.toString(16)}`);
        throw new RunnerError('ERR_RUNNER_TPM_NV_INDEX', 'NV index 0x01400001 is not defined');
      },
      quote: async () => {
        throw new Error('not reached');
      },
      pcrRead: async () => new Map(),
      readPublic: async () => {
        throw new Error('not reached');
      },
      ephemeralKey: async () => {
        throw new Error('not reached');
      },
      ephemeralDecrypt: async () => {
        throw new Error('not reached');
      },
    };
    const err = await runnerFailure(new AzureVtpmSource({ device: plainTpm }).getReport(Buffer.alloc(64), runtime()));
    expect(err.code).toBe('ERR_RUNNER_TPM_NV_INDEX');
    expect(calls).toEqual(['read 1400001']);
  });
});

describe.skipIf(missing.length > 0)(`AzureVtpmSource on swtpm through tpm2-tools${skipped}`, () => {
  let firmware: SimulatedFirmware;
  let chain: Chain;
  let vtpm: SwtpmVtpm;
  let thim: FakeServer;
  const servers: FakeServer[] = [];
  beforeAll(async () => {
    firmware = new SimulatedFirmware({ root: (await roots()).Milan });
    chain = chainOf(firmware);
    vtpm = await startSwtpmVtpm({ firmware });
    thim = await startFakeThim(chain);
    servers.push(thim);
  });
  afterAll(async () => {
    await vtpm?.stop();
    for (const s of servers) await s.close();
  });

  it('writes the user data, reads the HCL report, quotes over the challenge binding and takes the VCEK chain from THIM', async () => {
    const binding = runtime();
    const reportData = reportDataOf(binding);
    const source = new AzureVtpmSource({ tcti: vtpm.tcti, thimUrl: thim.url, kdsUrl: await closedUrl() });
    expect([source.kind, source.location, source.simulated]).toEqual(['azure-vtpm', vtpm.tcti, true]);
    const ev = await source.getReport(reportData, binding);
    // NV 0x01400002 holds what the runner wrote: on Azure the paravisor mirrors it into the next HCL report.
    expect(await new Tpm2ToolsDevice({ tcti: vtpm.tcti }).nvRead(USER_DATA_NV_INDEX)).toEqual(reportData);
    expect(ev.azure?.hclReport.equals(vtpm.hclReport)).toBe(true);
    expect(ev.report).toEqual(vtpm.hclReport.subarray(0x20, 0x20 + 1184));
    expect(ev.certificates).toEqual({ vcek: chain.vcek, ask: chain.ask, ark: chain.ark });
    expect(source.lastChain).toEqual({ source: 'thim' });
    expect(thim.requests.at(-1)).toBe('GET /metadata/THIM/amd/certification metadata');
    expect(Object.keys(ev.azure!.pcrs)).toEqual(Array.from({ length: 24 }, (_, i) => String(i)));
    expect(ev.azure!.challenge).toBe(binding.challenge);
    // What the KRS checks: chain to the (simulated) roots, claims bound, AK-signed quote over the binding nonce.
    const verdict = verifyHclEvidence(ev.azure!.hclReport, {
      certificates: [ev.certificates.vcek!, ev.certificates.ask!, ev.certificates.ark!].map((d) => parseCertificate(d)),
      trust: trustAnchorsFromPem(simulatedRootsPem(await roots()), { simulated: true }),
      tpm: { quote: ev.azure!.quote, nonce: quoteBindingNonce(binding.challenge!, binding.runtimeData), pcrs: { sha256: new Map(Object.entries(ev.azure!.pcrs).map(([i, v]) => [Number(i), Buffer.from(v, 'hex')])) } },
      requireQuote: true,
    });
    expect(verdict.errors.map((e) => e.code)).toEqual([]);
    expect(verdict.ok).toBe(true);
    // The same quote over other runtime data does not verify.
    const other = verifyHclEvidence(ev.azure!.hclReport, {
      certificates: [ev.certificates.vcek!, ev.certificates.ask!, ev.certificates.ark!].map((d) => parseCertificate(d)),
      trust: trustAnchorsFromPem(simulatedRootsPem(await roots()), { simulated: true }),
      tpm: { quote: ev.azure!.quote, nonce: quoteBindingNonce(binding.challenge!, Buffer.from('{}')), pcrs: { sha256: new Map(Object.entries(ev.azure!.pcrs).map(([i, v]) => [Number(i), Buffer.from(v, 'hex')])) } },
      requireQuote: true,
    });
    expect(other.errors.map((e) => e.code)).toContain('ERR_TPM_QUOTE_NONCE');
  });

  it('THIM down: the VCEK chain comes from AMD KDS for the report\'s chip and REPORTED_TCB', async () => {
    const kds = await startFakeKds({ Milan: chain });
    servers.push(kds);
    const source = new AzureVtpmSource({ tcti: vtpm.tcti, thimUrl: await closedUrl(), kdsUrl: kds.url });
    const ev = await source.getReport(reportDataOf(runtime()), runtime());
    expect(ev.certificates).toEqual({ vcek: chain.vcek, ask: chain.ask, ark: chain.ark });
    expect(source.lastChain?.source).toBe('kds');
    expect(source.lastChain?.thimProblem).toMatch(/THIM at http:\/\/127\.0\.0\.1:\d+\/metadata\/THIM\/amd\/certification cannot be reached/);
    const hwid = firmware.chipId.toString('hex');
    expect(kds.requests).toEqual([expect.stringMatching(new RegExp(`^GET /vcek/v1/Milan/${hwid}\\?blSPL=\\d+&teeSPL=\\d+&snpSPL=\\d+&ucodeSPL=\\d+$`)), 'GET /vcek/v1/Milan/cert_chain']);
  });

  it('THIM serving a VCEK for another chip or TCB is not used: KDS is asked', async () => {
    const otherChip = await startFakeThim(chainOf(new SimulatedFirmware({ root: (await roots()).Milan, chipId: randomBytes(64) })));
    const otherTcb = await startFakeThim(chainOf(new SimulatedFirmware({ root: (await roots()).Milan, chipId: firmware.chipId, tcb: { bootloader: 9, tee: 0, snp: 30, microcode: 220 } })));
    const kds = await startFakeKds({ Milan: chain });
    servers.push(otherChip, otherTcb, kds);
    const a = new AzureVtpmSource({ tcti: vtpm.tcti, thimUrl: otherChip.url, kdsUrl: kds.url });
    expect((await a.getReport(reportDataOf(runtime()), runtime())).certificates.vcek).toEqual(chain.vcek);
    expect(a.lastChain).toEqual({ source: 'kds', thimProblem: "THIM's VCEK is for another chip than the report's CHIP_ID" });
    const b = new AzureVtpmSource({ tcti: vtpm.tcti, thimUrl: otherTcb.url, kdsUrl: kds.url });
    expect((await b.getReport(reportDataOf(runtime()), runtime())).certificates.vcek).toEqual(chain.vcek);
    expect(b.lastChain?.thimProblem).toMatch(/another TCB than the report's REPORTED_TCB/);
  });

  it('neither THIM nor KDS: ERR_RUNNER_VCEK_UNAVAILABLE naming both', async () => {
    const thimError = await startFakeThim(chain, 503);
    const emptyKds = await startFakeKds({});
    servers.push(thimError, emptyKds);
    const err = await runnerFailure(new AzureVtpmSource({ tcti: vtpm.tcti, thimUrl: thimError.url, kdsUrl: emptyKds.url }).getReport(reportDataOf(runtime()), runtime()));
    expect(err.code).toBe('ERR_RUNNER_VCEK_UNAVAILABLE');
    expect(err.message).toMatch(/THIM at .* answered HTTP 503; and AMD KDS: ERR_KDS_FETCH/);
  });

  it('a PCR that moved between the quote and its read-back is retried once; a quote that still does not verify is refused', async () => {
    const raced = new Tampering(new Tpm2ToolsDevice({ tcti: vtpm.tcti }), { quote: (q, n) => (n === 1 ? withPcr(q, 4, Buffer.alloc(32, 4)) : q) });
    const ok = await new AzureVtpmSource({ device: raced, thimUrl: thim.url }).getReport(reportDataOf(runtime()), runtime());
    expect(raced.quotes).toBe(2);
    expect(ok.azure?.pcrs['4']).not.toBe('04'.repeat(32));
    const always = new Tampering(new Tpm2ToolsDevice({ tcti: vtpm.tcti }), { quote: (q) => withPcr(q, 4, Buffer.alloc(32, 4)) });
    const err = await runnerFailure(new AzureVtpmSource({ device: always, thimUrl: thim.url }).getReport(reportDataOf(runtime()), runtime()));
    expect(always.quotes).toBe(2);
    expect(err.code).toBe('ERR_RUNNER_EVIDENCE');
    expect(err.reason?.code).toBe('ERR_TPM_PCR_DIGEST');
  });

  it('a quote signature that does not verify with the HCL report\'s AK is refused at once', async () => {
    const forged = new Tampering(new Tpm2ToolsDevice({ tcti: vtpm.tcti }), {
      quote: (q) => {
        const message = Buffer.from(q.message);
        message[message.length - 1]! ^= 1;
        return { ...q, message };
      },
    });
    const err = await runnerFailure(new AzureVtpmSource({ device: forged, thimUrl: thim.url }).getReport(reportDataOf(runtime()), runtime()));
    expect(forged.quotes).toBe(1);
    expect(err.code).toBe('ERR_RUNNER_EVIDENCE');
    expect(err.reason?.details?.map((d) => d.code)).toContain('ERR_TPM_QUOTE_SIGNATURE');
  });

  it('an HCL report that is not one, or whose claims are not bound, is ERR_RUNNER_EVIDENCE', async () => {
    const garbage = new Tampering(new Tpm2ToolsDevice({ tcti: vtpm.tcti }), { nvRead: (i, b) => (i === HCL_REPORT_NV_INDEX ? Buffer.alloc(b.length, 7) : b) });
    const bad = await runnerFailure(new AzureVtpmSource({ device: garbage, thimUrl: thim.url }).getReport(reportDataOf(runtime()), runtime()));
    expect(bad.code).toBe('ERR_RUNNER_EVIDENCE');
    expect(bad.message).toContain('NV index 0x01400001 does not hold a usable HCL report');
    expect(bad.reason?.code).toMatch(/^ERR_HCL_/);
    const unbound = new Tampering(new Tpm2ToolsDevice({ tcti: vtpm.tcti }), {
      nvRead: (i, b) => {
        if (i !== HCL_REPORT_NV_INDEX) return b;
        // One hex digit of the claims' user-data changed: REPORT_DATA no longer is their hash.
        const c = Buffer.from(b);
        const at = c.indexOf('"user-data":"') + 13;
        c[at] = c[at] === 0x30 ? 0x31 : 0x30;
        return c;
      },
    });
    const err = await runnerFailure(new AzureVtpmSource({ device: unbound, thimUrl: thim.url }).getReport(reportDataOf(runtime()), runtime()));
    expect(err.code).toBe('ERR_RUNNER_EVIDENCE');
    expect(err.message).toContain('does not bind its runtime claims');
  });

  it('says it needs a challenge, and without one refuses before touching the TPM', async () => {
    const device = new Tampering(new Tpm2ToolsDevice({ tcti: vtpm.tcti }), {});
    const source = new AzureVtpmSource({ device, thimUrl: thim.url });
    expect(source.needsChallenge).toBe(true);
    const err = await runnerFailure(source.getReport(Buffer.alloc(64), { runtimeData: Buffer.from('{}'), challenge: null }));
    expect(err.code).toBe('ERR_RUNNER_INTERNAL');
    expect(device.quotes).toBe(0);
  });

  it('the configuration selects it with its TCTI, THIM and KDS URLs', async () => {
    const source = await selectEvidenceSource({ kind: 'azure-vtpm', tcti: vtpm.tcti, thimUrl: thim.url, kdsUrl: null, tcgLog: null });
    expect([source.kind, source.location]).toEqual(['azure-vtpm', vtpm.tcti]);
    const ev = await source.getReport(reportDataOf(runtime()), runtime());
    expect(ev.azure?.hclReport.equals(vtpm.hclReport)).toBe(true);
  });
});
