import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { RunnerError } from '../errors.js';
import { type EphemeralKeyOutput, HCL_REPORT_NV_INDEX, PCR_BANKS, type PcrSelection, type TpmDevice, type TpmQuoteOutput, handleHex, selectionArg, sortedPcrs } from './tpm-device.js';

/** The vTPM's resource manager, as tpm2-tools names it: what the runner uses unless `evidence.tcti` says otherwise. */
export const DEFAULT_TCTI = 'device:/dev/tpmrm0';

/** Every tool the device runs; all must be installed (the Debian package tpm2-tools has them). */
export const TPM2_TOOLS = [
  'tpm2_getcap',
  'tpm2_nvreadpublic',
  'tpm2_nvdefine',
  'tpm2_nvundefine',
  'tpm2_nvwrite',
  'tpm2_nvread',
  'tpm2_quote',
  'tpm2_pcrread',
  'tpm2_readpublic',
  'tpm2_createpolicy',
  'tpm2_createprimary',
  'tpm2_certify',
  'tpm2_startauthsession',
  'tpm2_policypcr',
  'tpm2_rsadecrypt',
  'tpm2_flushcontext',
] as const;
type Tool = (typeof TPM2_TOOLS)[number];

const INSTALL_HINT = 'install it with `apt-get install tpm2-tools` (Debian, Ubuntu; `dnf install tpm2-tools` on Fedora, RHEL, Azure Linux)';
/**
 * The template of Microsoft's ephemeral key (Tss2Util PopulateEphemeralKeyPublicTemplate): RSA-2048, no scheme,
 * no symmetric part, decrypt only, never leaves this TPM, no dictionary-attack lockout, and no userWithAuth, so
 * the key can be used only through its PolicyPCR policy.
 */
const EPHEMERAL_ALG = 'rsa2048:null:null';
const EPHEMERAL_ATTRIBUTES = 'fixedtpm|fixedparent|sensitivedataorigin|decrypt|noda';
/** Attributes Azure's own tooling gives the user-data index: readable and writable with owner or index auth. */
const NV_ATTRIBUTES = 'ownerread|ownerwrite|authread|authwrite';
/** TPM_RC_HANDLE (0x18B): the NV index or key handle is not there. */
const RC_HANDLE = /\(0x0*18b\)|ErrorCode \(0x0*18b\)/i;
const TCTI_FAILURE = /could not load tcti|failed to instantiate tcti|tcti_from_file|cannot connect|tcti.*(?:init|connect)/i;

export interface Tpm2ToolsOptions {
  /** The TCTI the tools use (exported to them as TPM2TOOLS_TCTI). Default `device:/dev/tpmrm0`. */
  readonly tcti?: string;
  /** Per command; a command still running then is killed. Default 30 s. */
  readonly timeoutMs?: number;
  /** Where to look for the tools (a PATH-style list). Default the process's PATH. */
  readonly searchPath?: string;
  /** Parent of the private per-command directory for the tools' files. Default the OS temp directory. */
  readonly tmpDir?: string;
}

interface Ran {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * A TPM reached through tpm2-tools (tpm2-tss's TCTI loader: the kernel's resource manager on a VM, swtpm in
 * CI). Each operation runs the tools with execFile (no shell), a timeout, TPM2TOOLS_TCTI set to the configured
 * TCTI, and a fresh 0700 directory for the files they read and write, removed afterwards. Every failure is a
 * RunnerError: ERR_RUNNER_TPM_TOOLS_MISSING (not installed), ERR_RUNNER_TPM_NV_INDEX (index not defined),
 * ERR_RUNNER_TPM (unreachable TPM, a refused command, a timeout, unexpected output).
 */
export class Tpm2ToolsDevice implements TpmDevice {
  readonly location: string;
  readonly #tcti: string;
  readonly #timeoutMs: number;
  readonly #searchPath: string;
  readonly #tmpDir: string;
  #tools: Promise<ReadonlyMap<Tool, string>> | null = null;

  constructor(options: Tpm2ToolsOptions = {}) {
    this.#tcti = options.tcti ?? DEFAULT_TCTI;
    this.location = this.#tcti;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#searchPath = options.searchPath ?? process.env.PATH ?? '';
    this.#tmpDir = options.tmpDir ?? tmpdir();
  }

  /** Resolves every tool once; fails naming the missing ones and how to install them. */
  tools(): Promise<ReadonlyMap<Tool, string>> {
    this.#tools ??= findTools(this.#searchPath);
    const p = this.#tools;
    p.catch(() => {
      // Not cached: a later call looks again (the package may have been installed meanwhile).
      if (this.#tools === p) this.#tools = null;
    });
    return p;
  }

  async nvWrite(index: number, data: Uint8Array): Promise<void> {
    if (data.length === 0 || data.length > 2048) throw new RangeError(`NV data is ${data.length} bytes; expected 1..2048`);
    const hex = handleHex(index);
    await this.#inDir(async (dir) => {
      const size = await this.#nvSize(index, dir);
      if (size !== null && size !== data.length) {
        // As Azure's own tooling does: an index of another size is replaced by one of the size written.
        await this.#run('tpm2_nvundefine', [hex, '-C', 'o'], dir, `removing NV index ${hex} (${size} bytes) to redefine it with ${data.length}`);
      }
      if (size !== data.length) await this.#run('tpm2_nvdefine', [hex, '-C', 'o', '-s', String(data.length), '-a', NV_ATTRIBUTES], dir, `defining NV index ${hex}`);
      const file = join(dir, 'nv-in.bin');
      await writeFile(file, data, { mode: 0o600 });
      await this.#run('tpm2_nvwrite', [hex, '-C', 'o', '-i', file], dir, `writing NV index ${hex}`);
    });
  }

  async nvRead(index: number): Promise<Buffer> {
    const hex = handleHex(index);
    return this.#inDir(async (dir) => {
      const file = join(dir, 'nv-out.bin');
      await this.#run('tpm2_nvread', [hex, '-C', 'o', '-o', file], dir, `reading NV index ${hex}`, () => nvMissing(index, this.#tcti));
      return readFile(file);
    });
  }

  async quote(akHandle: number, nonce: Uint8Array, selection: PcrSelection): Promise<TpmQuoteOutput> {
    if (nonce.length > 64) throw new RangeError(`the quote nonce is ${nonce.length} bytes; TPM2B_DATA takes at most 64`);
    const pcrs = checkedSelection(selection);
    const ak = handleHex(akHandle);
    return this.#inDir(async (dir) => {
      const f = (name: string): string => join(dir, name);
      // No qualifying data is MAA AzureGuest's quote (Microsoft's library sends none).
      const qualifying = nonce.length === 0 ? [] : ['-q', Buffer.from(nonce).toString('hex')];
      const args = ['-c', ak, '-l', selectionArg(selection), ...qualifying, '-g', 'sha256', '-m', f('quote.msg'), '-s', f('quote.sig'), '-o', f('quote.pcrs'), '-F', 'values'];
      await this.#run('tpm2_quote', args, dir, `quoting with the key at ${ak}`, () => new RunnerError('ERR_RUNNER_TPM', `the TPM (${this.#tcti}) has no key at persistent handle ${ak}: on an Azure confidential VM the paravisor provisions the attestation key (AK) there`));
      const [message, signature, values] = await Promise.all([readFile(f('quote.msg')), readFile(f('quote.sig')), readFile(f('quote.pcrs'))]);
      if (message.length === 0 || signature.length === 0) throw tpmFailure(`tpm2_quote wrote an empty ${message.length === 0 ? 'quote message' : 'signature'}`);
      return { message, signature, pcrs: splitPcrs(values, selection.bank, pcrs, 'tpm2_quote') };
    });
  }

  async pcrRead(selection: PcrSelection): Promise<ReadonlyMap<number, Buffer>> {
    const pcrs = checkedSelection(selection);
    return this.#inDir(async (dir) => {
      const file = join(dir, 'pcrs.bin');
      await this.#run('tpm2_pcrread', [selectionArg(selection), '-o', file, '-F', 'values'], dir, 'reading PCRs');
      return splitPcrs(await readFile(file), selection.bank, pcrs, 'tpm2_pcrread');
    });
  }

  async readPublic(handle: number): Promise<Buffer> {
    const hex = handleHex(handle);
    return this.#inDir(async (dir) => {
      const file = join(dir, 'object.pub');
      await this.#run('tpm2_readpublic', ['-c', hex, '-o', file], dir, `reading the public area of ${hex}`, () => new RunnerError('ERR_RUNNER_TPM', `the TPM (${this.#tcti}) has no object at ${hex}`));
      return readFile(file);
    });
  }

  async ephemeralKey(akHandle: number, selection: PcrSelection): Promise<EphemeralKeyOutput> {
    checkedSelection(selection);
    const ak = handleHex(akHandle);
    return this.#inDir(async (dir) => {
      const f = (name: string): string => join(dir, name);
      try {
        const pub = await this.#createEphemeral(dir, selection);
        await this.#run('tpm2_certify', ['-c', f('eph.ctx'), '-C', ak, '-g', 'sha256', '-o', f('certify.bin'), '-s', f('certify.sig'), '-f', 'plain'], dir, `certifying the ephemeral key with the key at ${ak}`);
        const [certifyInfo, signature] = await Promise.all([readFile(f('certify.bin')), readFile(f('certify.sig'))]);
        if (certifyInfo.length === 0 || signature.length === 0) throw tpmFailure('tpm2_certify wrote an empty attestation or signature');
        return { public: pub, certifyInfo, signature };
      } finally {
        await this.#flushTransient(dir);
      }
    });
  }

  async ephemeralDecrypt(selection: PcrSelection, ciphertext: Uint8Array, scheme: 'rsaes' | 'oaep'): Promise<{ plaintext: Buffer; public: Buffer }> {
    checkedSelection(selection);
    if (ciphertext.length === 0 || ciphertext.length > 512) throw new RangeError(`RSA ciphertext of ${ciphertext.length} bytes`);
    return this.#inDir(async (dir) => {
      const f = (name: string): string => join(dir, name);
      let session = false;
      try {
        const pub = await this.#createEphemeral(dir, selection);
        await writeFile(f('in.bin'), ciphertext, { mode: 0o600 });
        await this.#run('tpm2_startauthsession', ['--policy-session', '-S', f('session.ctx')], dir, 'starting a policy session');
        session = true;
        await this.#run('tpm2_policypcr', ['-S', f('session.ctx'), '-l', selectionArg(selection)], dir, 'satisfying the PCR policy');
        // No -o: the plaintext (a transient key) comes back on stdout and never touches a file.
        const { stdout } = await this.#run('tpm2_rsadecrypt', ['-c', f('eph.ctx'), '-p', `session:${f('session.ctx')}`, '-s', scheme, f('in.bin')], dir, `decrypting with the ephemeral key (${scheme})`);
        return { plaintext: stdout, public: pub };
      } finally {
        if (session) await this.#run('tpm2_flushcontext', [f('session.ctx')], dir, 'closing the policy session').catch(() => undefined);
        await this.#flushTransient(dir);
      }
    });
  }

  /**
   * The ephemeral key from its template, under PolicyPCR over the current values of `selection`: saved to eph.ctx,
   * its TPM2B_PUBLIC returned.
   */
  async #createEphemeral(dir: string, selection: PcrSelection): Promise<Buffer> {
    const f = (name: string): string => join(dir, name);
    const sel = selectionArg(selection);
    await this.#run('tpm2_pcrread', [sel, '-o', f('pcrs.bin')], dir, 'reading PCRs for the key policy');
    await this.#run('tpm2_createpolicy', ['--policy-pcr', '-l', sel, '-f', f('pcrs.bin'), '-L', f('policy.dat')], dir, 'computing the PCR policy');
    // The trial session stays loaded on a TPM without resource manager (swtpm): three of them exhaust it.
    await this.#run('tpm2_flushcontext', ['-l'], dir, 'flushing loaded sessions').catch(() => undefined);
    await this.#run('tpm2_createprimary', ['-C', 'n', '-G', EPHEMERAL_ALG, '-g', 'sha256', '-a', EPHEMERAL_ATTRIBUTES, '-L', f('policy.dat'), '-c', f('eph.ctx')], dir, 'creating the ephemeral key');
    await this.#flushTransient(dir);
    await this.#run('tpm2_readpublic', ['-c', f('eph.ctx'), '-o', f('eph.pub')], dir, 'reading the ephemeral key');
    await this.#flushTransient(dir);
    return readFile(f('eph.pub'));
  }

  /**
   * Flushes transient objects. Through the kernel's resource manager each tool's objects go with its connection
   * and this finds none; on a TPM reached directly (swtpm) they would stay and fill its three object slots.
   */
  async #flushTransient(dir: string): Promise<void> {
    await this.#run('tpm2_flushcontext', ['-t'], dir, 'flushing transient objects').catch(() => undefined);
  }

  /** The size of a defined NV index, or null when it is not defined. */
  async #nvSize(index: number, dir: string): Promise<number | null> {
    const listed = (await this.#run('tpm2_getcap', ['handles-nv-index'], dir, 'listing NV indices')).stdout.toString('utf8');
    const defined = [...listed.matchAll(/0x([0-9a-f]+)/gi)].some((m) => Number.parseInt(m[1]!, 16) === index);
    if (!defined) return null;
    const pub = (await this.#run('tpm2_nvreadpublic', [handleHex(index)], dir, `reading the public area of NV index ${handleHex(index)}`)).stdout.toString('utf8');
    const size = /^\s*size:\s*(\d+)\s*$/m.exec(pub);
    if (!size) throw tpmFailure(`tpm2_nvreadpublic printed no size for NV index ${handleHex(index)}`);
    return Number(size[1]);
  }

  /** A fresh private directory (mkdtemp: 0700) for one operation's files, removed afterwards. */
  async #inDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    await this.tools();
    let dir: string;
    try {
      dir = await mkdtemp(join(this.#tmpDir, 'zt4ai-tpm-'));
    } catch (cause) {
      throw new RunnerError('ERR_RUNNER_TPM', `cannot make a private directory for tpm2-tools under ${this.#tmpDir}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
    }
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Runs one tool in `dir` (so that `-q <hex>` can never name a file of the caller's working directory). */
  async #run(tool: Tool, args: readonly string[], dir: string, what: string, onMissingHandle?: () => RunnerError): Promise<Ran> {
    const file = (await this.tools()).get(tool)!;
    const env = { ...process.env, TPM2TOOLS_TCTI: this.#tcti };
    return new Promise<Ran>((resolve, reject) => {
      execFile(file, args, { cwd: dir, env, timeout: this.#timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, encoding: 'buffer', windowsHide: true }, (error, stdout, stderrBytes) => {
        const stderr = stderrBytes.toString('utf8');
        if (!error) {
          resolve({ stdout, stderr });
          return;
        }
        const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: NodeJS.Signals | null; code?: number | string | null };
        if (e.code === 'ENOENT') reject(toolsMissing([tool], e));
        else if (e.killed && e.signal === 'SIGKILL') reject(new RunnerError('ERR_RUNNER_TPM', `${tool} (${what}) did not finish within ${this.#timeoutMs} ms; is the TPM at ${this.#tcti} responding?`, { cause: e }));
        else if (TCTI_FAILURE.test(stderr)) reject(new RunnerError('ERR_RUNNER_TPM', `${tool} cannot reach the TPM through TCTI "${this.#tcti}" (${summary(stderr)}); check evidence.tcti and that the runner may open the device (group tss)`, { cause: e }));
        else if (onMissingHandle && RC_HANDLE.test(stderr)) reject(onMissingHandle());
        else reject(new RunnerError('ERR_RUNNER_TPM', `${tool} failed ${what} (${e.signal ? `signal ${e.signal}` : `exit ${e.code}`}): ${summary(stderr)}`, { cause: e }));
      });
    });
  }
}

/** Looks each tool up on the search path (absolute directories only), as the shell would, without one. */
async function findTools(searchPath: string): Promise<ReadonlyMap<Tool, string>> {
  const dirs = searchPath.split(delimiter).filter((d) => d.length > 0 && isAbsolute(d));
  const found = new Map<Tool, string>();
  for (const tool of TPM2_TOOLS) {
    for (const dir of dirs) {
      const candidate = join(dir, tool);
      if (await access(candidate, constants.X_OK).then(() => true, () => false)) {
        found.set(tool, candidate);
        break;
      }
    }
  }
  const missing = TPM2_TOOLS.filter((t) => !found.has(t));
  if (missing.length > 0) throw toolsMissing(missing);
  return found;
}

function toolsMissing(missing: readonly string[], cause?: unknown): RunnerError {
  const what = missing.length === TPM2_TOOLS.length ? 'no tpm2-tools command' : missing.join(', ');
  return new RunnerError('ERR_RUNNER_TPM_TOOLS_MISSING', `the Azure vTPM evidence source runs tpm2-tools, but ${what} was found on PATH; ${INSTALL_HINT}`, cause === undefined ? {} : { cause });
}

function nvMissing(index: number, tcti: string): RunnerError {
  const hint = index === HCL_REPORT_NV_INDEX ? ': there is no HCL report, so this is not an Azure confidential VM (DCasv5/ECasv5 and later), or the TCTI names another TPM' : '';
  return new RunnerError('ERR_RUNNER_TPM_NV_INDEX', `NV index ${handleHex(index)} is not defined in the TPM at ${tcti}${hint}`);
}

function tpmFailure(message: string): RunnerError {
  return new RunnerError('ERR_RUNNER_TPM', message);
}

function checkedSelection(selection: PcrSelection): number[] {
  if (!(selection.bank in PCR_BANKS)) throw new RangeError(`unknown PCR bank ${String(selection.bank)}`);
  const pcrs = sortedPcrs(selection);
  if (pcrs.length === 0 || !pcrs.every((i) => Number.isInteger(i) && i >= 0 && i <= 23)) throw new RangeError('a PCR selection names 1 to 24 PCRs in 0..23');
  return pcrs;
}

/** tpm2-tools' `-F values`: the digests of the selected PCRs, concatenated in ascending index order. */
function splitPcrs(values: Buffer, bank: PcrSelection['bank'], pcrs: readonly number[], tool: string): Map<number, Buffer> {
  const size = PCR_BANKS[bank];
  if (values.length !== size * pcrs.length) {
    throw tpmFailure(`${tool} returned ${values.length} bytes of PCR values for ${pcrs.length} ${bank} PCRs (${size * pcrs.length} expected): is the ${bank} bank allocated?`);
  }
  return new Map(pcrs.map((index, i) => [index, Buffer.from(values.subarray(i * size, (i + 1) * size))]));
}

/** The tool's own summary line (tpm2-tools prints "ERROR: …" last), cut short; stderr never carries secrets here. */
function summary(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const tool = lines.filter((l) => /^ERROR: /.test(l));
  const line = tool.at(-1) ?? lines.filter((l) => /ERROR/i.test(l)).at(-1) ?? lines.at(-1) ?? 'no error message';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips control characters from a tool's output
  return line.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 240);
}
