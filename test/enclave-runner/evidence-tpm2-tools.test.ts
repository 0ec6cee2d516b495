import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTpmQuote } from '../../attestation/azure/tpm-quote.js';
import { AZURE_AK_HANDLE, HCL_REPORT_NV_INDEX, USER_DATA_NV_INDEX } from '../../enclave-runner/evidence/tpm-device.js';
import { TPM2_TOOLS, Tpm2ToolsDevice } from '../../enclave-runner/evidence/tpm2-tools.js';
import { SWTPM_INSTALL_HINT, type SwtpmVtpm, missingSwtpmTools, startSwtpmVtpm } from '../../simulator/azure/index.js';
import { SimulatedFirmware } from '../../simulator/index.js';
import { roots } from './stack.js';
import { runnerFailure } from './runner-failure.js';

const missing = missingSwtpmTools();
const skipped = missing.length > 0 ? ` (SKIPPED: ${missing.join(', ')} not on PATH; ${SWTPM_INSTALL_HINT})` : '';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'zt4ai-tpm2-tools-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('Tpm2ToolsDevice without tpm2-tools', () => {
  it('fails with ERR_RUNNER_TPM_TOOLS_MISSING naming the Debian package, before touching any TPM', async () => {
    const device = new Tpm2ToolsDevice({ tcti: 'device:/nonexistent/tpmrm0', searchPath: tempDir() });
    const err = await runnerFailure(device.nvRead(HCL_REPORT_NV_INDEX));
    expect(err.code).toBe('ERR_RUNNER_TPM_TOOLS_MISSING');
    expect(err.message).toContain('apt-get install tpm2-tools');
    expect(err.message).toContain('no tpm2-tools command was found on PATH');
    expect((await runnerFailure(device.quote(AZURE_AK_HANDLE, Buffer.alloc(32), { bank: 'sha256', pcrs: [0] }))).code).toBe('ERR_RUNNER_TPM_TOOLS_MISSING');
  });

  it.skipIf(missing.length > 0)('names the tools that are missing when only some are installed', async () => {
    const dir = tempDir();
    symlinkSync('/usr/bin/tpm2_nvread', join(dir, 'tpm2_nvread'));
    const err = await runnerFailure(new Tpm2ToolsDevice({ searchPath: dir }).nvRead(HCL_REPORT_NV_INDEX));
    expect(err.code).toBe('ERR_RUNNER_TPM_TOOLS_MISSING');
    expect(err.message).toContain('tpm2_quote');
    expect(err.message).not.toContain('tpm2_nvread,');
    expect(TPM2_TOOLS).toContain('tpm2_nvread');
  });
});

describe.skipIf(missing.length > 0)(`Tpm2ToolsDevice against swtpm${skipped}`, () => {
  let vtpm: SwtpmVtpm;
  let device: Tpm2ToolsDevice;
  beforeAll(async () => {
    vtpm = await startSwtpmVtpm({ firmware: new SimulatedFirmware({ root: (await roots()).Milan }) });
    device = new Tpm2ToolsDevice({ tcti: vtpm.tcti });
  });
  afterAll(async () => {
    await vtpm?.stop();
  });

  it('writes the user-data index (defining it when absent, as Azure does) and reads it back', async () => {
    expect(device.location).toBe(vtpm.tcti);
    const first = randomBytes(64);
    await device.nvWrite(USER_DATA_NV_INDEX, first);
    expect(await device.nvRead(USER_DATA_NV_INDEX)).toEqual(first);
    const second = randomBytes(64);
    await device.nvWrite(USER_DATA_NV_INDEX, second);
    expect(await device.nvRead(USER_DATA_NV_INDEX)).toEqual(second);
    // An index of another size is replaced by one of the size written (Azure's az-cvm-vtpm does the same).
    const short = randomBytes(32);
    await device.nvWrite(USER_DATA_NV_INDEX, short);
    expect(await device.nvRead(USER_DATA_NV_INDEX)).toEqual(short);
    await device.nvWrite(USER_DATA_NV_INDEX, first);
    expect(await device.nvRead(USER_DATA_NV_INDEX)).toEqual(first);
  });

  it('reads the whole HCL report from NV 0x01400001', async () => {
    expect((await device.nvRead(HCL_REPORT_NV_INDEX)).equals(vtpm.hclReport)).toBe(true);
  });

  it('quotes with the AK at 0x81000003: the quote verifies with attestation/azure, and a changed PCR or nonce does not', async () => {
    await vtpm.extendPcr(7, Buffer.from('secure boot state'));
    const nonce = randomBytes(32);
    const selection = { bank: 'sha256', pcrs: [7, 0, 1, 2, 3, 4, 5, 6] } as const;
    const quote = await device.quote(AZURE_AK_HANDLE, nonce, selection);
    expect([...quote.pcrs.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(quote.pcrs.get(7)).not.toEqual(Buffer.alloc(32));
    const read = await device.pcrRead(selection);
    expect([...read.entries()]).toEqual([...quote.pcrs.entries()]);
    const ok = verifyTpmQuote(quote, { ak: vtpm.akPublicKey, nonce, pcrs: { sha256: quote.pcrs } });
    expect(ok.errors).toEqual([]);
    expect(ok.ok).toBe(true);
    expect(ok.attest?.extraData).toEqual(nonce);
    const tampered = new Map(quote.pcrs);
    tampered.set(7, Buffer.alloc(32, 1));
    expect(verifyTpmQuote(quote, { ak: vtpm.akPublicKey, nonce, pcrs: { sha256: tampered } }).errors.map((e) => e.code)).toEqual(['ERR_TPM_PCR_DIGEST']);
    expect(verifyTpmQuote(quote, { ak: vtpm.akPublicKey, nonce: randomBytes(32), pcrs: { sha256: quote.pcrs } }).errors.map((e) => e.code)).toEqual(['ERR_TPM_QUOTE_NONCE']);
  });

  it('an NV index that is not defined is ERR_RUNNER_TPM_NV_INDEX', async () => {
    const err = await runnerFailure(device.nvRead(0x01400009));
    expect(err.code).toBe('ERR_RUNNER_TPM_NV_INDEX');
    expect(err.message).toContain('NV index 0x01400009 is not defined');
  });

  it('a key handle that holds no key is ERR_RUNNER_TPM naming the handle', async () => {
    const err = await runnerFailure(device.quote(0x81000009, randomBytes(32), { bank: 'sha256', pcrs: [0] }));
    expect(err.code).toBe('ERR_RUNNER_TPM');
    expect(err.message).toContain('no key at persistent handle 0x81000009');
  });

  it('an unreachable TPM is ERR_RUNNER_TPM naming the TCTI', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const tcti = `swtpm:host=127.0.0.1,port=${closed}`;
    const err = await runnerFailure(new Tpm2ToolsDevice({ tcti }).nvRead(HCL_REPORT_NV_INDEX));
    expect(err.code).toBe('ERR_RUNNER_TPM');
    expect(err.message).toContain(`cannot reach the TPM through TCTI "${tcti}"`);
  });

  it('a TPM that never answers is ERR_RUNNER_TPM once the command times out', async () => {
    // tpm2-tss's cmd TCTI talks to a command's stdin/stdout: `sleep` reads nothing and never answers.
    const err = await runnerFailure(new Tpm2ToolsDevice({ tcti: 'cmd:sleep 5', timeoutMs: 1000 }).nvRead(HCL_REPORT_NV_INDEX));
    expect(err.code).toBe('ERR_RUNNER_TPM');
    expect(err.message).toContain('tpm2_nvread (reading NV index 0x01400001) did not finish within 1000 ms');
  });

  it('refuses a nonce TPM2B_DATA cannot hold and an empty PCR selection', async () => {
    await expect(device.quote(AZURE_AK_HANDLE, Buffer.alloc(65), { bank: 'sha256', pcrs: [0] })).rejects.toThrow(RangeError);
    await expect(device.quote(AZURE_AK_HANDLE, Buffer.alloc(32), { bank: 'sha256', pcrs: [] })).rejects.toThrow(RangeError);
    await expect(device.pcrRead({ bank: 'sha256', pcrs: [24] })).rejects.toThrow(RangeError);
  });
});
