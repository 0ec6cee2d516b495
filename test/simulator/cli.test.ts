import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';
import { parseReport } from '../../attestation/snp/report.js';
import { decodeTcb } from '../../attestation/snp/tcb.js';

async function run(args: string[], isTTY = false) {
  let stdout = '';
  let stderr = '';
  const cwd = mkdtempSync(join(tmpdir(), 'zt4ai-sim-cli-'));
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    isTTY,
    env: {},
    cwd,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr, cwd };
}

describe('zt4ai sim report', () => {
  it('writes the evidence files and prints one JSON object with --json', async () => {
    const measurement = 'ab'.repeat(48);
    const r = await run(['sim', 'report', '--out', 'ev', '--seed', 'cli', '--product', 'turin', '--version', '3', '--policy', '0x30000', '--measurement', measurement, '--report-data', '0102', '--host-data', 'cd'.repeat(32), '--tcb', 'bl=2,tee=1,snp=4,ucode=0x48,fmc=1', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ ok: true, simulated: true, product: 'Turin', version: 3, signer: 'VCEK', seeded: true, measurement, keyBits: 2048 });
    const dir = join(r.cwd, 'ev');
    for (const f of ['report.bin', 'vcek.pem', 'chain.pem', 'roots.pem', 'certs.bin', 'evidence.json']) expect(existsSync(join(dir, f)), f).toBe(true);
    const report = parseReport(readFileSync(join(dir, 'report.bin')));
    expect(report.problems).toEqual([]);
    expect(report.version).toBe(3);
    expect(report.reportData.subarray(0, 3).toString('hex')).toBe('010200');
    expect(report.hostData.toString('hex')).toBe('cd'.repeat(32));
    expect(decodeTcb(report.reportedTcbRaw, 'Turin')).toEqual({ fmc: 1, bootloader: 2, tee: 1, snp: 4, microcode: 0x48 });
    const evidence = JSON.parse(readFileSync(join(dir, 'evidence.json'), 'utf8')) as Record<string, unknown>;
    expect(evidence).toMatchObject({ product: 'Turin', version: 3, signer: 'VCEK', seeded: true, measurement, files: { report: 'report.bin', endorsement: 'vcek.pem' } });
  });

  it('writes vlek.pem for --signer vlek and shows progress on a TTY', async () => {
    const r = await run(['sim', 'report', '--out', 'ev', '--product', 'milan', '--signer', 'vlek', '--key-bits', '2048'], true);
    expect(r.code).toBe(0);
    expect(existsSync(join(r.cwd, 'ev', 'vlek.pem'))).toBe(true);
    expect(r.stderr).toContain('generating SIMULATED AMD roots (RSA-2048)');
    expect(r.stdout).toContain('zt4ai evidence verify');
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['product', ['--product', 'rome'], /unknown product "rome"/],
    ['version', ['--version', '7'], /report version "7"/],
    ['policy', ['--policy', 'lots'], /policy "lots"/],
    ['measurement', ['--measurement', 'abcd'], /measurement must be 48 bytes/],
    ['report data', ['--report-data', '00'.repeat(65)], /at most 64 bytes/],
    ['host data', ['--host-data', 'xyz'], /not hex/],
    ['signer', ['--signer', 'vmpck'], /signer "vmpck"/],
    ['tcb part', ['--tcb', 'bl=1,foo=2'], /TCB part "foo=2"/],
    ['fmc off Turin', ['--product', 'genoa', '--tcb', 'fmc=1'], /only on Turin/],
    ['key bits', ['--key-bits', '1024'], /key size "1024"/],
    ['seed with key bits', ['--seed', 'x', '--key-bits', '4096'], /fixture roots/],
  ];
  for (const [name, args, message] of bad) {
    it(`bad ${name} is a usage error (exit 2)`, async () => {
      const r = await run(['sim', 'report', '--out', 'ev', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(r.cwd, 'ev'))).toBe(false);
    });
  }

  it('an unwritable --out is an I/O usage error (exit 2)', async () => {
    const r = await run(['sim', 'report', '--out', '/dev/null/ev', '--seed', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('[ERR_IO]');
  });

  it('--out is required', async () => {
    expect((await run(['sim', 'report', '--seed', 'x'])).code).toBe(2);
  });
});
