import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EFI_GLOBAL_VARIABLE_GUID, TCG_EV, TCG_LOG_LIMITS, parseTcgLog, parseUefiVariableData, replayTcgLog, secureBootEnabled } from '../../../attestation/azure/tcg-log.js';
import type { TpmHashName } from '../../../attestation/azure/tpm-constants.js';
import { type BootEvent, defaultBootEvents, startupLocalityEvent, uefiVariableData, writeTcgLog } from '../../../simulator/azure/tcg-log-writer.js';
import { codeOf } from '../../helpers/error-code.js';

/**
 * The PC Client example of the TCG Canonical Event Log spec v1.1 §5.1.7: the Spec ID event (SHA-1 and
 * SHA-256) and one EV_S_CRTM_VERSION event in PCR 0 whose digests are SHA-1/SHA-256 of its 16 data bytes.
 */
const CEL_EXAMPLE =
  '000000000300000000000000000000000000000000000000000000002500000053706563204944204576656e74303300000000000002000202000000040014000b002000000000000008000000020000000400c42fedad268200cb1d15f97841c344e79dae33200b00d4720b4009438213b803568017f903093f6bea8ab47d283db32b6eabedbbf155100000001efb6b540c1d5540a4ad4ef4bf17b83a';

/*
 * SHA-256 PCRs 1-7 that tpm2_eventlog (tpm2-tools 5.4) replays from writeTcgLog(defaultBootEvents(), ['sha1', 'sha256']).
 * Its PCR 0 is not used: 5.4 wrongly extends EV_NO_ACTION digests (tpm2-tools issue #3224, fixed by PR #3230).
 */
const TPM2_EVENTLOG_SHA256: Readonly<Record<number, string>> = {
  1: '3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969',
  7: '3a765fab0c4555e805964d8c75231894f45c5a6f2161738cf157015250a3e624',
};


function extendAll(hash: TpmHashName, initial: Buffer, data: readonly Buffer[]): Buffer {
  return data.reduce((pcr, d) => createHash(hash).update(pcr).update(createHash(hash).update(d).digest()).digest(), initial);
}

describe('TCG event log: independent vectors', () => {
  it('parses the CEL spec PC Client example and replays PCR 0 from its one measured event', () => {
    const log = parseTcgLog(Buffer.from(CEL_EXAMPLE, 'hex'));
    expect(log.specId).toMatchObject({ platformClass: 0, specVersionMajor: 2, specVersionMinor: 0, specErrata: 0, uintnSize: 2 });
    expect(log.specId.algorithms).toEqual([
      { algorithmId: 0x0004, digestSize: 20, hash: 'sha1' },
      { algorithmId: 0x000b, digestSize: 32, hash: 'sha256' },
    ]);
    expect(log.events).toHaveLength(1);
    const [crtm] = log.events;
    expect(crtm?.eventType).toBe(TCG_EV.S_CRTM_VERSION);
    expect(crtm?.digests.get('sha256')?.toString('hex')).toBe('d4720b4009438213b803568017f903093f6bea8ab47d283db32b6eabedbbf155');
    expect(crtm?.digests.get('sha1')?.equals(createHash('sha1').update(crtm.event).digest())).toBe(true);
    expect(replayTcgLog(log, 'sha256').get(0)?.equals(extendAll('sha256', Buffer.alloc(32), [crtm!.event]))).toBe(true);
  });

  it('agrees with tpm2_eventlog on the PCRs its replay gets right', () => {
    const pcrs = replayTcgLog(parseTcgLog(writeTcgLog(defaultBootEvents(), ['sha1', 'sha256']).log), 'sha256');
    for (const i of [1, 2, 3, 4, 5, 6]) expect(pcrs.get(i)?.toString('hex')).toBe(TPM2_EVENTLOG_SHA256[1]);
    expect(pcrs.get(7)?.toString('hex')).toBe(TPM2_EVENTLOG_SHA256[7]);
  });
});

describe('TCG event log: writer and parser', () => {
  const events = defaultBootEvents();
  const written = writeTcgLog(events, ['sha1', 'sha256']);

  it('round-trips every event, digest and the Spec ID header; the log is little-endian', () => {
    const log = parseTcgLog(written.log);
    expect(log.specId.algorithms.map((a) => a.hash)).toEqual(['sha1', 'sha256']);
    expect(log.events.map(({ pcrIndex, eventType, event }) => ({ pcrIndex, eventType, event }))).toEqual(events);
    expect(log.events.map((e) => e.digests)).toEqual(written.digests);
    expect(written.log.readUInt32LE(4)).toBe(TCG_EV.NO_ACTION);
    expect(log.events[2]?.eventType).toBe(0x80000001);
  });

  it('replay equals extending each measured event by hand, from the StartupLocality value', () => {
    for (const bank of ['sha1', 'sha256'] as const) {
      const size = bank === 'sha1' ? 20 : 32;
      const pcrs = replayTcgLog(parseTcgLog(written.log), bank);
      const sep = Buffer.alloc(4);
      expect(pcrs.get(0)?.equals(extendAll(bank, Buffer.alloc(size), [events[1]!.event, sep]))).toBe(true);
      expect(pcrs.get(7)?.equals(extendAll(bank, Buffer.alloc(size), [events[2]!.event, sep]))).toBe(true);
      for (let i = 1; i < 7; i++) expect(pcrs.get(i)?.equals(extendAll(bank, Buffer.alloc(size), [sep]))).toBe(true);
      expect([...pcrs.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
  });

  it('locality 3 starts PCR 0 at 0...03; other EV_NO_ACTION events are never extended', () => {
    const local3 = [startupLocalityEvent(3), ...events.slice(1)];
    const start = Buffer.alloc(32);
    start[31] = 3;
    const pcr0 = replayTcgLog(parseTcgLog(writeTcgLog(local3).log), 'sha256').get(0);
    expect(pcr0?.equals(extendAll('sha256', start, [events[1]!.event, Buffer.alloc(4)]))).toBe(true);
    const noise: BootEvent = { pcrIndex: 4, eventType: TCG_EV.NO_ACTION, event: Buffer.from('SP800-155 Event\0') };
    const base = replayTcgLog(parseTcgLog(writeTcgLog(events).log), 'sha256');
    expect(replayTcgLog(parseTcgLog(writeTcgLog([...events, noise]).log), 'sha256')).toEqual(base);
  });

  it('secure boot: on, off, absent; only the one EFI global SecureBoot record in PCR 7 before its separator counts', () => {
    const sep: BootEvent = { pcrIndex: 7, eventType: TCG_EV.SEPARATOR, event: Buffer.alloc(4) };
    const log = (...e: BootEvent[]) => parseTcgLog(writeTcgLog(e).log);
    const sb = (v: number, guid = EFI_GLOBAL_VARIABLE_GUID, pcrIndex = 7): BootEvent => ({ pcrIndex, eventType: TCG_EV.EFI_VARIABLE_DRIVER_CONFIG, event: uefiVariableData(guid, 'SecureBoot', Buffer.from([v])) });
    expect(secureBootEnabled(parseTcgLog(written.log))).toBe(true);
    expect(secureBootEnabled(log(sb(1), sep))).toBe(true);
    expect(secureBootEnabled(log(sb(0), sep))).toBe(false);
    expect(secureBootEnabled(log(sep))).toBeNull();
    expect(secureBootEnabled(log(sb(1, Buffer.alloc(16)), sep))).toBeNull();
    expect(secureBootEnabled(log(sb(1, EFI_GLOBAL_VARIABLE_GUID, 1), sep))).toBeNull();
    const pk: BootEvent = { pcrIndex: 7, eventType: TCG_EV.EFI_VARIABLE_DRIVER_CONFIG, event: uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'PK', Buffer.alloc(0)) };
    expect(secureBootEnabled(log(pk, sep))).toBeNull();
    // Without PCR 7's separator the configuration phase never closed in this log: nothing is proven.
    expect(secureBootEnabled(log(sb(1)))).toBeNull();
    // PCR 7 can be extended after boot: a record after the separator is ignored, even when it says "on".
    expect(secureBootEnabled(log(sb(0), sep, sb(1)))).toBe(false);
    // Event types are not measured: firmware's "off" relabelled as another type, and an "on" appended, proves nothing.
    const relabelled: BootEvent = { ...sb(0), eventType: 0x800000e0 };
    expect(secureBootEnabled(log(relabelled, sep, sb(1)))).toBeNull();
    expect(codeOf(() => secureBootEnabled(log(sb(1), sb(1), sep)))).toBe('ERR_TCG_LOG_EVENT');
    expect(parseUefiVariableData(uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'SecureBoot', Buffer.from([1])))).toEqual({ guid: EFI_GLOBAL_VARIABLE_GUID, name: 'SecureBoot', data: Buffer.from([1]) });
  });
});

describe('TCG event log refusals', () => {
  const log = writeTcgLog(defaultBootEvents()).log;
  const firstEvent2 = log.readUInt32LE(28) + 32;

  it('truncation anywhere but an event boundary is ERR_TCG_LOG_MALFORMED', () => {
    const events = defaultBootEvents();
    const boundaries = new Set(events.map((_, k) => writeTcgLog(events.slice(0, k)).log.length));
    for (let n = 0; n < log.length; n++) {
      expect(codeOf(() => parseTcgLog(log.subarray(0, n)))).toBe(boundaries.has(n) ? 'no error' : 'ERR_TCG_LOG_MALFORMED');
    }
  });

  it('a SHA-1-only legacy log and an older Spec ID are ERR_TCG_LOG_UNSUPPORTED', () => {
    const legacy = Buffer.concat([Buffer.from('0000000008000000', 'hex'), Buffer.alloc(20), Buffer.from('04000000', 'hex'), Buffer.from('abcd')]);
    expect(codeOf(() => parseTcgLog(legacy))).toBe('ERR_TCG_LOG_UNSUPPORTED');
    const event02 = Buffer.from(log);
    event02[32 + 14] = 0x32;
    expect(codeOf(() => parseTcgLog(event02))).toBe('ERR_TCG_LOG_UNSUPPORTED');
    expect(codeOf(() => replayTcgLog(parseTcgLog(log), 'sha384'))).toBe('ERR_TCG_LOG_UNSUPPORTED');
  });

  it('hard limits: input size, event size and event count', () => {
    expect(codeOf(() => parseTcgLog(Buffer.alloc(TCG_LOG_LIMITS.maxBytes + 1)))).toBe('ERR_TCG_LOG_MALFORMED');
    const huge = Buffer.from(log);
    huge.writeUInt32LE(TCG_LOG_LIMITS.maxEventBytes + 1, firstEvent2 + 12 + 2 + 32);
    expect(codeOf(() => parseTcgLog(huge))).toBe('ERR_TCG_LOG_MALFORMED');
    const many = Array.from({ length: TCG_LOG_LIMITS.maxEvents + 1 }, () => ({ pcrIndex: 1, eventType: TCG_EV.NO_ACTION, event: Buffer.alloc(0) }));
    expect(codeOf(() => parseTcgLog(writeTcgLog(many).log))).toBe('ERR_TCG_LOG_MALFORMED');
    expect(parseTcgLog(writeTcgLog(many.slice(1)).log).events).toHaveLength(TCG_LOG_LIMITS.maxEvents);
  });

  it('unknown digest algorithms, PCRs past 23, bad Spec ID sizes and duplicate StartupLocality are malformed', () => {
    const alg = Buffer.from(log);
    alg.writeUInt16LE(0x000c, firstEvent2 + 12);
    expect(codeOf(() => parseTcgLog(alg))).toBe('ERR_TCG_LOG_MALFORMED');
    const pcr = Buffer.from(log);
    pcr.writeUInt32LE(24, firstEvent2);
    expect(codeOf(() => parseTcgLog(pcr))).toBe('ERR_TCG_LOG_MALFORMED');
    const size = Buffer.from(log);
    size.writeUInt16LE(20, 32 + 16 + 8 + 4 + 2);
    expect(codeOf(() => parseTcgLog(size))).toBe('ERR_TCG_LOG_MALFORMED');
    const none = Buffer.from(log);
    none.writeUInt32LE(0, 32 + 16 + 8);
    expect(codeOf(() => parseTcgLog(none))).toBe('ERR_TCG_LOG_MALFORMED');
    const twice = parseTcgLog(writeTcgLog([startupLocalityEvent(0), startupLocalityEvent(3)]).log);
    expect(codeOf(() => replayTcgLog(twice, 'sha256'))).toBe('ERR_TCG_LOG_MALFORMED');
  });

  it('a measured event without the replayed bank and a truncated UEFI variable are malformed', () => {
    const spec = writeTcgLog([], ['sha1', 'sha256']).log;
    // PCR 1, EV_SEPARATOR, one digest (SHA-1, zeros), empty event: legal, but useless to a SHA-256 replay.
    const sha1Only = Buffer.concat([spec, Buffer.from('0100000004000000010000000400', 'hex'), Buffer.alloc(20), Buffer.alloc(4)]);
    const parsed = parseTcgLog(sha1Only);
    expect(parsed.events[0]?.digests.has('sha256')).toBe(false);
    expect(codeOf(() => replayTcgLog(parsed, 'sha256'))).toBe('ERR_TCG_LOG_MALFORMED');
    const cut = uefiVariableData(EFI_GLOBAL_VARIABLE_GUID, 'SecureBoot', Buffer.from([1])).subarray(0, 40);
    expect(codeOf(() => parseUefiVariableData(cut))).toBe('ERR_TCG_LOG_MALFORMED');
    const bad = parseTcgLog(writeTcgLog([{ pcrIndex: 7, eventType: TCG_EV.EFI_VARIABLE_DRIVER_CONFIG, event: cut }, { pcrIndex: 7, eventType: TCG_EV.SEPARATOR, event: Buffer.alloc(4) }]).log);
    expect(codeOf(() => secureBootEnabled(bad))).toBe('ERR_TCG_LOG_MALFORMED');
  });
});
