import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCertTable } from '../../enclave-runner/evidence/cert-table.js';
import { ConfigfsTsmSource } from '../../enclave-runner/evidence/configfs-tsm.js';
import { selectEvidenceSource } from '../../enclave-runner/evidence/detect.js';
import { RunnerError } from '../../enclave-runner/errors.js';
import { CERT_TABLE_GUIDS, SimulatedFirmware, TsmResponder, encodeCertTable } from '../../simulator/index.js';
import { roots } from './stack.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'zt4ai-evidence-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A configfs-tsm tree laid out like the kernel's (tsm/report/), answered by the simulator's responder. */
async function tree(guest: { policy?: bigint } = {}): Promise<{ tsm: string; responder: TsmResponder; firmware: SimulatedFirmware }> {
  const tsm = join(tempDir(), 'tsm');
  mkdirSync(join(tsm, 'report'), { recursive: true });
  const firmware = new SimulatedFirmware({ root: (await roots()).Genoa, ...(guest.policy === undefined ? {} : { guest: { policy: guest.policy } }) });
  const responder = new TsmResponder(tsm, firmware, { intervalMs: 5 });
  responder.start();
  return { tsm, responder, firmware };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RunnerError);
  return e as RunnerError;
}

describe('configfs-tsm evidence (the simulator tree, read through the Linux code path)', () => {
  it('writes REPORT_DATA to inblob, reads the report and the certificate table, and removes its entry', async () => {
    const { tsm, responder, firmware } = await tree();
    const source = new ConfigfsTsmSource({ root: tsm, simulated: true });
    const reportData = randomBytes(64);
    const ev = await source.getReport(reportData);
    await responder.stop();
    expect(ev.report).toHaveLength(1184);
    expect(ev.report.subarray(0x50, 0x90)).toEqual(reportData);
    expect(ev.certificates.vcek).toEqual(Buffer.from(firmware.endorsement.der));
    expect(Object.keys(ev.certificates).sort()).toEqual(['ark', 'ask', 'vcek']);
    expect(source.kind).toBe('simulated');
    // The entry is removed (the simulator's responder may re-make an empty one it was already visiting).
    const left = readdirSync(join(tsm, 'report')).filter((n) => n.startsWith(`zt4ai-${process.pid}-`));
    for (const n of left) expect(readOrNull(join(tsm, 'report', n, 'inblob'))?.length ?? 0).toBe(0);
  });

  it('serves two requests in a row from fresh entries (generation moves exactly once per request)', async () => {
    const { tsm, responder } = await tree();
    const source = new ConfigfsTsmSource({ root: tsm, simulated: true });
    const a = await source.getReport(Buffer.alloc(64, 1));
    const b = await source.getReport(Buffer.alloc(64, 2));
    await responder.stop();
    expect(a.report[0x50]).toBe(1);
    expect(b.report[0x50]).toBe(2);
  });

  it('refuses a provider other than sev_guest (a TDX guest, say)', async () => {
    const tsm = join(tempDir(), 'tsm');
    mkdirSync(join(tsm, 'report'), { recursive: true });
    // A fake kernel that makes the attributes of every new entry with provider tdx_guest.
    const timer = setInterval(() => {
      for (const e of readdirSync(join(tsm, 'report'))) {
        writeFileSync(join(tsm, 'report', e, 'provider'), 'tdx_guest\n');
        writeFileSync(join(tsm, 'report', e, 'generation'), '0\n');
      }
    }, 5);
    const err = await codeOf(new ConfigfsTsmSource({ root: tsm, simulated: true, timeoutMs: 2000 }).getReport(Buffer.alloc(64)));
    clearInterval(timer);
    expect(err.code).toBe('ERR_RUNNER_EVIDENCE');
    expect(err.message).toMatch(/provider "tdx_guest", not sev_guest/);
  });

  it('refuses a report when generation moved by more than its own write (a concurrent request)', async () => {
    const tsm = join(tempDir(), 'tsm');
    mkdirSync(join(tsm, 'report'), { recursive: true });
    const firmware = new SimulatedFirmware({ root: (await roots()).Genoa });
    // A kernel that answers, but another writer bumped the entry again in between.
    const answered = new Set<string>();
    const timer = setInterval(() => {
      for (const e of readdirSync(join(tsm, 'report'))) {
        const dir = join(tsm, 'report', e);
        for (const [f, v] of [['provider', 'sev_guest\n'], ['generation', '0\n']] as const) writeOnce(join(dir, f), v);
        const inblob = readOrNull(join(dir, 'inblob'));
        if (inblob?.length !== 64 || answered.has(dir)) continue;
        answered.add(dir);
        const x = firmware.getExtendedReport(inblob);
        writeFileSync(join(dir, 'outblob'), x.report);
        writeFileSync(join(dir, 'auxblob'), x.certTable);
        writeFileSync(join(dir, 'generation'), '2\n');
      }
    }, 5);
    const err = await codeOf(new ConfigfsTsmSource({ root: tsm, simulated: true, timeoutMs: 2000 }).getReport(Buffer.alloc(64, 7)));
    clearInterval(timer);
    expect(err.code).toBe('ERR_RUNNER_EVIDENCE');
    expect(err.message).toMatch(/generation .* moved from 0 to 2/);
  });

  it('gives up with a clear message when nothing answers', async () => {
    const tsm = join(tempDir(), 'tsm');
    mkdirSync(join(tsm, 'report'), { recursive: true });
    const err = await codeOf(new ConfigfsTsmSource({ root: tsm, simulated: true, timeoutMs: 150 }).getReport(Buffer.alloc(64)));
    expect(err.code).toBe('ERR_RUNNER_EVIDENCE');
    expect(err.message).toMatch(/no answer from the simulator's responder within 150 ms/);
  });
});

describe('the certificate table (auxblob)', () => {
  const der = (s: string): Buffer => Buffer.from(createHash('sha256').update(s).digest());
  it('finds VCEK, ASK and ARK by GUID and skips unknown entries', () => {
    const table = encodeCertTable([
      { guid: CERT_TABLE_GUIDS.VCEK, der: der('vcek') },
      { guid: '00000000-1111-2222-3333-444444444444', der: der('other') },
      { guid: CERT_TABLE_GUIDS.ASK, der: der('ask') },
      { guid: CERT_TABLE_GUIDS.ARK, der: der('ark') },
    ]);
    expect(parseCertTable(table)).toEqual({ vcek: der('vcek'), ask: der('ask'), ark: der('ark') });
    expect(parseCertTable(encodeCertTable([{ guid: CERT_TABLE_GUIDS.VLEK, der: der('vlek') }]))).toEqual({ vlek: der('vlek') });
  });

  it('takes an empty blob as no certificates and refuses a malformed table', () => {
    expect(parseCertTable(Buffer.alloc(0))).toEqual({});
    const table = encodeCertTable([{ guid: CERT_TABLE_GUIDS.VCEK, der: der('vcek') }]);
    const entry = Buffer.alloc(24);
    Buffer.from(CERT_TABLE_GUIDS.VCEK.replace(/-/g, ''), 'hex').copy(entry);
    entry.writeUInt32LE(24, 16);
    entry.writeUInt32LE(4, 20);
    expect(() => parseCertTable(Buffer.concat([entry, Buffer.from('cert')]))).toThrow(/no terminating all-zero entry/);
    const outside = Buffer.from(table);
    outside.writeUInt32LE(10_000, 16);
    expect(() => parseCertTable(outside)).toThrow(/points outside the table/);
  });
});

describe('evidence source selection', () => {
  it('auto-detects configfs-tsm first, then the Azure vTPM (through its device), and never the simulator', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'tsm', 'report'), { recursive: true });
    writeFileSync(join(root, 'tpmrm0'), '');
    const probe = { configfsTsm: join(root, 'tsm'), azureVtpm: join(root, 'tpmrm0') };
    expect((await selectEvidenceSource({ kind: 'auto' }, probe)).kind).toBe('configfs-tsm');
    rmSync(join(root, 'tsm'), { recursive: true });
    const azure = await selectEvidenceSource({ kind: 'auto' }, probe);
    expect([azure.kind, azure.location, azure.simulated]).toEqual(['azure-vtpm', `device:${join(root, 'tpmrm0')}`, false]);
  });

  it('names every path it looked for when nothing is found', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'sim', 'report'), { recursive: true });
    const err = await codeOf(selectEvidenceSource({ kind: 'auto' }, { configfsTsm: join(root, 'tsm'), azureVtpm: join(root, 'tpmrm0') }));
    expect(err.code).toBe('ERR_RUNNER_NO_EVIDENCE_SOURCE');
    expect(err.message).toContain(join(root, 'tsm', 'report'));
    expect(err.message).toContain(join(root, 'tpmrm0'));
    expect(err.message).toContain('"kind": "simulated"');
  });

  it('uses the simulator only when asked, and checks the configured paths', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'sim', 'report'), { recursive: true });
    const sim = await selectEvidenceSource({ kind: 'simulated', path: join(root, 'sim') });
    expect([sim.kind, sim.simulated]).toEqual(['simulated', true]);
    expect((await codeOf(selectEvidenceSource({ kind: 'simulated', path: join(root, 'nope') }))).code).toBe('ERR_RUNNER_EVIDENCE');
    const missing = await codeOf(selectEvidenceSource({ kind: 'configfs-tsm', path: join(root, 'nope') }));
    expect(missing.code).toBe('ERR_RUNNER_NO_EVIDENCE_SOURCE');
    expect(missing.message).toContain(join(root, 'nope', 'report'));
  });
});

function writeOnce(path: string, content: string): void {
  try {
    writeFileSync(path, content, { flag: 'wx' });
  } catch {
    // already there
  }
}

function readOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}
