import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, createPublicKey, type KeyObject, randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HCL_AK_KID } from '../../attestation/azure/runtime-claims.js';
import type { SimulatedFirmware } from '../firmware.js';
import { type SimVtpmCa, simulatedVtpmCa } from './ak-ca.js';
import { encodeHclReport } from './hcl-writer.js';
import { type SimVmConfiguration, encodeRuntimeClaims } from './runtime-claims-writer.js';
import { type BootEvent, defaultBootEvents, writeTcgLog } from './tcg-log-writer.js';

/** What the swtpm-backed vTPM runs: swtpm (Debian `swtpm`) and tpm2-tools (Debian `tpm2-tools`). */
export const SWTPM_TOOLS = ['swtpm', 'tpm2_startup', 'tpm2_createprimary', 'tpm2_evictcontrol', 'tpm2_flushcontext', 'tpm2_readpublic', 'tpm2_nvdefine', 'tpm2_nvwrite', 'tpm2_pcrextend'] as const;
export const SWTPM_INSTALL_HINT = 'apt-get install -y swtpm swtpm-tools tpm2-tools';

const AK_HANDLE = '0x81000003';
const HCL_INDEX = '0x01400001';
const AK_CERT_INDEX = '0x01c101d0';
/** EV_NO_ACTION: logged, never extended (TCG PC Client PFP). */
const EV_NO_ACTION = 0x00000003;
/** A restricted RSA-2048 signing key (RSASSA/SHA-256): what TPM2_Quote needs, as Azure's AK. */
const AK_ALG = 'rsa2048:rsassa-sha256:null';
const AK_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign|noda';
const NV_ATTRIBUTES = 'ownerread|ownerwrite|authread|authwrite';
/** libtpms' TPM2_PT_NV_INDEX_MAX: swtpm's NV indices hold at most 2048 bytes (Azure's HCL index holds 2600). */
export const SWTPM_NV_INDEX_MAX = 2048;

export interface SwtpmVtpmOptions {
  /** The simulated SEV-SNP firmware the "paravisor" asks for the report in the HCL report. */
  readonly firmware: SimulatedFirmware;
  readonly vmConfiguration?: Partial<SimVmConfiguration>;
  /** The runtime claims' `user-data` (64 bytes, default zeros): fixed at start, see below. */
  readonly userData?: Uint8Array;
  /** VMPL of the SNP report (default 0; others exist only to make refusable evidence). */
  readonly vmpl?: number;
  /** Per tpm2-tools command and for swtpm to come up. Default 30 s. */
  readonly timeoutMs?: number;
  /** The CA that issues the AK certificate in NV 0x01C101D0; default a fresh simulated one. */
  readonly akCa?: SimVtpmCa;
  /** Boot events measured into PCRs 0-7 and logged, as firmware would; default defaultBootEvents(). */
  readonly bootEvents?: readonly BootEvent[];
}

/** A running swtpm provisioned like an Azure confidential VM's vTPM. */
export interface SwtpmVtpm {
  /** `swtpm:host=127.0.0.1,port=N`: the TCTI for tpm2-tools (TPM2TOOLS_TCTI, or the runner's evidence.tcti). */
  readonly tcti: string;
  readonly port: number;
  /** swtpm's private state directory (removed by stop()). */
  readonly dir: string;
  /** The AK persisted at 0x81000003 (public part, read back from the TPM): `HCLAkPub` of the runtime claims. */
  readonly akPublicKey: KeyObject;
  /** The runtime-claims JSON bytes embedded in the HCL report (REPORT_DATA = their SHA-256). */
  readonly runtimeClaims: Buffer;
  /** The HCL report written to NV 0x01400001. */
  readonly hclReport: Buffer;
  readonly vmConfiguration: SimVmConfiguration;
  /** The CA that issued the AK certificate (NV 0x01C101D0): what a KRS is told to trust for it. */
  readonly akCa: SimVtpmCa;
  /** The TCG event log of the simulated boot (what /sys/kernel/security/tpm0/binary_bios_measurements holds). */
  readonly tcgLogPath: string;
  /** TPM2_PCR_Extend of a SHA-256 PCR with SHA-256(data): moves a PCR, as a measured boot step would. */
  extendPcr(index: number, data: Uint8Array): Promise<void>;
  /** Stops swtpm and removes its state directory. Idempotent. */
  stop(): Promise<void>;
}

/** The tools of SWTPM_TOOLS not found on PATH (empty when the swtpm vTPM can run); tests skip on them. */
export function missingSwtpmTools(searchPath: string = process.env.PATH ?? ''): string[] {
  const dirs = searchPath.split(delimiter).filter((d) => d.length > 0 && isAbsolute(d));
  return SWTPM_TOOLS.filter((tool) => !dirs.some((d) => executable(join(d, tool))));
}

/**
 * A SIMULATED Azure vTPM on the real TPM 2.0 code path: `swtpm socket` (libtpms) on two consecutive loopback
 * ports in a private temporary directory, started with tpm2_startup, an RSA-2048 restricted signing AK made
 * and persisted at 0x81000003 (as Azure provisions its AK), NV index 0x01400001 holding an HCL report
 * (simulator/azure's writers) around a simulated SNP report at VMPL 0 whose REPORT_DATA is SHA-256 of the
 * runtime claims, which carry that AK as `HCLAkPub`, NV index 0x01C101D0 holding an AK certificate from a
 * simulated vTPM CA, and a simulated boot measured into PCRs 0-7 with its TCG event log (`tcgLogPath`). tpm2-tools reach it through the returned TCTI, so the
 * runner's Tpm2ToolsDevice runs exactly as on a VM.
 *
 * Two differences from Azure, both documented in the README:
 *  - Azure's paravisor regenerates the HCL report when the guest writes user data to NV 0x01400002; swtpm
 *    does not, so `user-data` stays what it was at start. Evidence stays bound to the runner's runtime data
 *    all the same: through the quote's qualifying data, quoteBindingNonce(challenge, runtime data), which is
 *    what the KRS's AzureCvm route requires.
 *  - libtpms limits NV indices to 2048 bytes, and an HCL report with both RSA-2048 keys is about 2350 bytes,
 *    so the runtime claims carry the AK but no EK (`HCLEkPub` is optional to the verifier).
 * It verifies only against simulated AMD roots.
 */
export async function startSwtpmVtpm(options: SwtpmVtpmOptions): Promise<SwtpmVtpm> {
  const missing = missingSwtpmTools();
  if (missing.length > 0) throw new Error(`the swtpm vTPM needs ${missing.join(', ')} on PATH: ${SWTPM_INSTALL_HINT}`);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const dir = await mkdtemp(join(tmpdir(), 'zt4ai-swtpm-'));
  let child: ChildProcess | null = null;
  const cleanup = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', cleanup);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', cleanup);
    const c = child;
    child = null;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => c.kill('SIGKILL'))]);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const started = await startSwtpm(dir, timeoutMs);
    child = started.child;
    const tcti = `swtpm:host=127.0.0.1,port=${started.port}`;
    const tpm = (args: readonly string[]): Promise<Buffer> => run(args, { dir, tcti, timeoutMs });
    await tpm(['tpm2_startup', '-c']);
    await tpm(['tpm2_createprimary', '-C', 'o', '-G', AK_ALG, '-a', AK_ATTRIBUTES, '-c', join(dir, 'ak.ctx')]);
    await tpm(['tpm2_evictcontrol', '-C', 'o', '-c', join(dir, 'ak.ctx'), AK_HANDLE]);
    // swtpm has no resource manager: the transient copy of the AK would otherwise hold a slot for good.
    await tpm(['tpm2_flushcontext', '-t']);
    await tpm(['tpm2_readpublic', '-c', AK_HANDLE, '-f', 'pem', '-o', join(dir, 'ak.pem')]);
    const akPublicKey = createPublicKey(await readFile(join(dir, 'ak.pem')));
    const vmConfiguration: SimVmConfiguration = { consoleEnabled: true, secureBoot: true, tpmEnabled: true, vmUniqueId: randomUUID().toUpperCase(), ...options.vmConfiguration };
    const userData = Buffer.alloc(64);
    if (options.userData) {
      if (options.userData.length > 64) throw new RangeError(`user data is ${options.userData.length} bytes; the NV index holds 64`);
      userData.set(options.userData);
    }
    const runtimeClaims = akOnly(encodeRuntimeClaims({ ak: akPublicKey, ek: akPublicKey, vmConfiguration, userData }));
    const snpReport = options.firmware.getReport(createHash('sha256').update(runtimeClaims).digest(), options.vmpl ?? 0);
    const hclReport = encodeHclReport({ snpReport, runtimeClaims });
    if (hclReport.length > SWTPM_NV_INDEX_MAX) throw new Error(`the HCL report is ${hclReport.length} bytes; swtpm's NV indices hold ${SWTPM_NV_INDEX_MAX}`);
    await writeNv(tpm, dir, HCL_INDEX, hclReport);
    const akCa = options.akCa ?? (await simulatedVtpmCa());
    await writeNv(tpm, dir, AK_CERT_INDEX, await akCa.issueAkCertificate(akPublicKey, vmConfiguration.vmUniqueId));
    const tcgLogPath = join(dir, 'binary_bios_measurements');
    await measureBoot(tpm, tcgLogPath, options.bootEvents ?? defaultBootEvents());
    return {
      tcti,
      port: started.port,
      dir,
      akPublicKey,
      runtimeClaims,
      hclReport,
      vmConfiguration,
      akCa,
      tcgLogPath,
      extendPcr: async (index, data) => {
        if (!Number.isInteger(index) || index < 0 || index > 23) throw new RangeError(`PCR ${index} is not in 0..23`);
        await tpm(['tpm2_pcrextend', `${index}:sha256=${createHash('sha256').update(data).digest('hex')}`]);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Defines an owner NV index of the data's size and writes the data. */
async function writeNv(tpm: (args: readonly string[]) => Promise<Buffer>, dir: string, index: string, data: Buffer): Promise<void> {
  const file = join(dir, `nv-${index}.bin`);
  await writeFile(file, data);
  await tpm(['tpm2_nvdefine', index, '-C', 'o', '-s', String(data.length), '-a', NV_ATTRIBUTES]);
  await tpm(['tpm2_nvwrite', index, '-C', 'o', '-i', file]);
}

/** Extends each event's SHA-256 into its PCR, as firmware does, and writes the crypto-agile log of them. */
async function measureBoot(tpm: (args: readonly string[]) => Promise<Buffer>, logPath: string, events: readonly BootEvent[]): Promise<void> {
  for (const e of events) {
    if (e.eventType === EV_NO_ACTION) continue;
    await tpm(['tpm2_pcrextend', `${e.pcrIndex}:sha256=${createHash('sha256').update(e.event).digest('hex')}`]);
  }
  await writeFile(logPath, writeTcgLog(events).log);
}

/**
 * The runtime claims with the AK only (see startSwtpmVtpm: the EK would not fit swtpm's NV index). The writer's
 * output is compact JSON, so parsing and re-serialising it keeps every other byte as the writer made it.
 */
function akOnly(claims: Buffer): Buffer {
  const doc = JSON.parse(claims.toString('utf8')) as { keys: Array<{ kid: string }> };
  doc.keys = doc.keys.filter((k) => k.kid === HCL_AK_KID);
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** `swtpm socket` on ports P (commands) and P+1 (control), as the swtpm TCTI expects; retried if a port was taken meanwhile. */
async function startSwtpm(dir: string, timeoutMs: number): Promise<{ child: ChildProcess; port: number }> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePortPair();
    const child = spawn(
      'swtpm',
      ['socket', '--tpm2', '--tpmstate', `dir=${dir}`, '--server', `type=tcp,port=${port},bindaddr=127.0.0.1`, '--ctrl', `type=tcp,port=${port + 1},bindaddr=127.0.0.1`, '--flags', 'not-need-init', '--log', `file=${join(dir, 'swtpm.log')},level=1`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`swtpm exited (${signal ?? code}) ${stderr.trim().slice(0, 300)}`)));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const state = await Promise.race([exited.then((why) => ({ exited: why })), canConnect(port).then((ok) => ({ ok }))]);
      if ('exited' in state) {
        lastError = state.exited;
        break;
      }
      if (state.ok) return { child, port };
      await sleep(20);
    }
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      lastError ||= `swtpm did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`;
    }
  }
  throw new Error(`cannot start swtpm: ${lastError}`);
}

/** Two consecutive free loopback ports (the OS picks the first). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const a = await listenOn(0);
    const port = (a.address() as AddressInfo).port;
    const b = port < 65_535 ? await listenOn(port + 1).catch(() => null) : null;
    await new Promise((r) => a.close(r));
    if (b) {
      await new Promise((r) => b.close(r));
      return port;
    }
  }
}

function listenOn(port: number): Promise<ReturnType<typeof createServer>> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One tpm2-tools command (no shell), in the state directory, against the swtpm TCTI. */
function run(argv: readonly string[], o: { dir: string; tcti: string; timeoutMs: number }): Promise<Buffer> {
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: o.dir, env: { ...process.env, TPM2TOOLS_TCTI: o.tcti }, timeout: o.timeoutMs, killSignal: 'SIGKILL', encoding: 'buffer' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} failed against ${o.tcti}: ${stderr.toString('utf8').trim().split('\n').at(-1)?.slice(0, 300) ?? error.message}`));
      else resolve(stdout);
    });
  });
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
