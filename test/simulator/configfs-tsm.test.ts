import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../attestation/snp/certificate.js';
import { parseReport } from '../../attestation/snp/report.js';
import {
  CERT_TABLE_GUIDS,
  type SimulatedAmdRoot,
  SimulatedFirmware,
  TsmResponder,
  createSimulatedRoots,
  createTsmEntry,
  decodeCertTable,
  encodeCertTable,
  fulfilTsmRequest,
  tsmEntryPaths,
} from '../../simulator/index.js';

let root: SimulatedAmdRoot;
beforeAll(async () => {
  root = (await createSimulatedRoots({ seed: 'tsm tests' })).Genoa;
});

const tsmDir = (): string => mkdtempSync(join(tmpdir(), 'zt4ai-tsm-'));

describe('configfs-tsm tree', () => {
  it('creates the attributes the kernel makes under report/<name>', async () => {
    const entry = await createTsmEntry(tsmDir(), 'guest0');
    const p = tsmEntryPaths(entry);
    expect(readFileSync(p.provider, 'utf8')).toBe('sev_guest\n');
    expect(readFileSync(p.generation, 'utf8')).toBe('0\n');
    expect(readFileSync(p.privlevel, 'utf8')).toBe('0\n');
    expect(readFileSync(p.outblob).length).toBe(0);
  });

  it('round trip: write inblob, fulfil, read outblob and auxblob', async () => {
    const fw = new SimulatedFirmware({ root });
    const p = tsmEntryPaths(await createTsmEntry(tsmDir()));
    const nonce = Buffer.alloc(64, 0x42);
    writeFileSync(p.inblob, nonce);
    writeFileSync(p.privlevel, '1\n');
    const done = await fulfilTsmRequest(p.dir, fw);
    expect(done.generation).toBe(1);
    const report = parseReport(readFileSync(p.outblob));
    expect(report.problems).toEqual([]);
    expect(report.reportData).toEqual(nonce);
    expect(report.vmpl).toBe(1);
    const certs = decodeCertTable(readFileSync(p.auxblob));
    expect(certs.map((c) => c.guid)).toEqual([CERT_TABLE_GUIDS.VCEK, CERT_TABLE_GUIDS.ASK, CERT_TABLE_GUIDS.ARK]);
    expect(certs.map((c) => parseCertificate(c.der).subjectCN)).toEqual(['SEV-VCEK', 'SEV-Genoa', 'ARK-Genoa']);
    expect(readFileSync(p.generation, 'utf8')).toBe('1\n');
    await fulfilTsmRequest(p.dir, fw);
    expect(readFileSync(p.generation, 'utf8')).toBe('2\n');
  });

  it('refuses an inblob over 64 bytes, as the kernel does', async () => {
    const p = tsmEntryPaths(await createTsmEntry(tsmDir()));
    writeFileSync(p.inblob, Buffer.alloc(65));
    await expect(fulfilTsmRequest(p.dir, new SimulatedFirmware({ root }))).rejects.toThrow(/at most 64/);
  });

  it('a responder answers each inblob write once, including entries a guest made with a bare mkdir', async () => {
    const dir = tsmDir();
    const responder = new TsmResponder(dir, new SimulatedFirmware({ root }));
    expect(await responder.poll()).toBe(0);
    const entry = join(dir, 'report', 'bare');
    mkdirSync(entry, { recursive: true });
    expect(await responder.poll()).toBe(0);
    writeFileSync(join(entry, 'inblob'), Buffer.from('first'));
    expect(await responder.poll()).toBe(1);
    expect(await responder.poll()).toBe(0);
    expect(readFileSync(join(entry, 'provider'), 'utf8')).toBe('sev_guest\n');
    expect(parseReport(readFileSync(join(entry, 'outblob'))).reportData.subarray(0, 5).toString()).toBe('first');
    writeFileSync(join(entry, 'inblob'), Buffer.from('second!'));
    expect(await responder.poll()).toBe(1);
    expect(readFileSync(join(entry, 'generation'), 'utf8')).toBe('2\n');
    expect(responder.served).toBe(2);
  });

  it('a started responder serves a guest that waits for the generation to move', async () => {
    const dir = tsmDir();
    const p = tsmEntryPaths(await createTsmEntry(dir, 'runner'));
    const responder = new TsmResponder(dir, new SimulatedFirmware({ root }), { intervalMs: 5 });
    responder.start();
    try {
      writeFileSync(p.inblob, Buffer.from('guest nonce'));
      const deadline = Date.now() + 5000;
      while (readFileSync(p.generation, 'utf8') === '0\n' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(parseReport(readFileSync(p.outblob)).reportData.subarray(0, 11).toString()).toBe('guest nonce');
    } finally {
      await responder.stop();
    }
  });
});

describe('certificate table', () => {
  it('encodes GUID entries, a zero terminator and the DER certificates, offsets from the table start', () => {
    const table = encodeCertTable([
      { guid: CERT_TABLE_GUIDS.VLEK, der: Buffer.from('aaaa') },
      { guid: CERT_TABLE_GUIDS.ARK, der: Buffer.from('bbb') },
    ]);
    expect(table.subarray(0, 16).toString('hex')).toBe('a8074bc2a25a483eaae639c045a0b8a1');
    expect(table.readUInt32LE(16)).toBe(72);
    expect(table.readUInt32LE(20)).toBe(4);
    expect(table.readUInt32LE(24 + 16)).toBe(76);
    expect(table.subarray(48, 72).every((b) => b === 0)).toBe(true);
    expect(table.subarray(72).toString()).toBe('aaaabbb');
    expect(decodeCertTable(table).map((e) => e.der.toString())).toEqual(['aaaa', 'bbb']);
  });

  it('puts the VLEK and the ASVK (under the ASK GUID) in a VLEK-signed extended report', () => {
    const x = new SimulatedFirmware({ root, signer: 'VLEK' }).getExtendedReport();
    const entries = decodeCertTable(x.certTable);
    expect(entries.map((e) => e.guid)).toEqual([CERT_TABLE_GUIDS.VLEK, CERT_TABLE_GUIDS.ASK, CERT_TABLE_GUIDS.ARK]);
    expect(parseCertificate(entries[1]!.der).subjectCN).toBe('SEV-VLEK-Genoa');
  });
});
