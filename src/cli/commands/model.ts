import type { KeyObject } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { isKeyError } from '../../../keys/errors.js';
import { wipe } from '../../../keys/keystore/errors.js';
import { loadRsaPrivateKey, rsaOaepUnwrapper, rsaOaepWrapper } from '../../../keys/sealing/data-keys.js';
import { inspectSealedModel } from '../../../keys/sealing/inspect.js';
import type { Progress } from '../../../keys/sealing/run-options.js';
import { type SealKey, sealModel } from '../../../keys/sealing/seal-model.js';
import { directorySink } from '../../../keys/sealing/sinks.js';
import { unsealModel } from '../../../keys/sealing/unseal-model.js';
import { loadSigningKey } from '../../../keys/signing/ec-keys.js';
import { listModelFiles } from '../../../keys/signing/model-walk.js';
import { DEFAULT_IGNORE_PATHS } from '../../../keys/signing/oms-types.js';
import { defaultSignatureFile, signModel } from '../../../keys/signing/sign.js';
import { type VerifyTrust, verifyModel } from '../../../keys/signing/verify.js';
import { type CliIo, type CommandResult, EXIT, UsageError, printJson } from '../io.js';
import { KeyServiceError, fetchWrapKey, importDataKey } from './model-key-service.js';

interface Common {
  json?: boolean;
}
type SignFlags = Common & { key: string; out?: string; ignore?: string[] };
type VerifyFlags = Common & { sig: string; pubkey?: string; cert?: string; identity?: string; issuer?: string; trustedRoot?: string; ignore?: string[]; allowSymlinks?: boolean };
type SealFlags = Common & { out: string; wrapKey?: string; krs?: string; akv?: string; keyName?: string; policy?: string; adminTokenFile?: string; kid?: string; signKey?: string; sig?: string; chunkSize?: string; threads?: string };
type UnsealFlags = Common & { out: string; unwrapKey: string; iUnderstandThisWritesPlaintext?: boolean; threads?: string };

/** Failures of the user's inputs or of I/O (exit 2); every other KeyError is a negative verdict (exit 1). */
const USAGE_CODES = new Set(['ERR_KEY_INVALID', 'ERR_KEY_UNSUPPORTED', 'ERR_SEAL_OPTIONS', 'ERR_SEAL_IO', 'ERR_MODEL_NOT_FOUND', 'ERR_MODEL_UNREADABLE']);

export function registerModelCommands(program: Command, io: CliIo, result: CommandResult): void {
  const model = program.command('model').description('sign, verify, seal and unseal models (OpenSSF Model Signing, sealed containers)');
  const run = <T extends Common>(fn: (flags: T, ...args: string[]) => Promise<0 | 1 | 2>) => async (...args: unknown[]) => {
    const positional = args.filter((a): a is string => typeof a === 'string');
    const flags = args.find((a) => typeof a === 'object' && a !== null && !('commands' in a)) as T;
    try {
      result.exitCode = await fn(flags, ...positional);
    } catch (e) {
      if (e instanceof KeyServiceError) {
        report(io, flags, { ok: false, errors: [e.toJSON()] }, [`FAILED: ${e.message} [${e.code}]`]);
        result.exitCode = EXIT.negative;
        return;
      }
      if (!isKeyError(e)) throw e;
      if (USAGE_CODES.has(e.code)) throw new UsageError(e.code, e.message, { cause: e });
      report(io, flags, { ok: false, errors: [e.toJSON()] }, [`FAILED: ${e.message} [${e.code}]`]);
      result.exitCode = EXIT.negative;
    }
  };
  model
    .command('sign <path>')
    .description('sign a model directory (or file) with an ECDSA P-256/P-384 key: OMS v1.0 Sigstore bundle')
    .requiredOption('--key <pem>', 'ECDSA private key (PEM)')
    .option('--out <sigfile>', 'where to write the bundle (default: <dir>/model.sig, or <file>.sig)')
    .option('--ignore <path...>', 'paths to leave out besides .git, .gitattributes, .github, .gitignore and the signature')
    .option('--json', 'print one JSON object')
    .action(run((f: SignFlags, path = '') => signCommand(io, path, f)));
  model
    .command('verify <path>')
    .description('verify a model against its OMS signature: trusted signer and exactly the signed files')
    .requiredOption('--sig <file>', 'the signature bundle (model.sig)')
    .option('--pubkey <pem>', 'key mode: the trusted public key')
    .option('--cert <pem>', 'certificate mode: the trusted CA certificate(s)')
    .option('--identity <email>', 'keyless mode: the expected certificate identity (with --issuer)')
    .option('--issuer <url>', 'keyless mode: the expected OIDC issuer')
    .option('--trusted-root <json>', 'keyless mode: Sigstore trusted_root.json (verification is offline)')
    .option('--ignore <path...>', "paths to ignore besides the signer's")
    .option('--allow-symlinks', 'follow symbolic links when the signer allowed them')
    .option('--json', 'print one JSON object: ok, rootDigest, signer, ignorePaths, errors')
    .action(run((f: VerifyFlags, path = '') => verifyCommand(io, path, f)));
  model
    .command('seal <dir>')
    .description('encrypt every model file into a sealed container bound to the OMS root digest')
    .requiredOption('--out <dir>', 'output directory (new or empty)')
    .option('--wrap-key <pem>', 'RSA public key (PEM or JWK) that wraps the data key (RSA-OAEP-256)')
    .option('--kid <id>', 'with --wrap-key: key reference recorded in the headers (default: the JWK thumbprint)')
    .option('--krs <url>', 'import a fresh data key into this KRS (or Managed HSM) as an exportable oct-HSM key (with --key-name, --policy)')
    .option('--akv <url>', 'wrap the data key to the public part of an exportable RSA key with a release policy of this Key Vault (or KRS) (with --key-name)')
    .option('--key-name <name>', 'the key on --krs or --akv')
    .option('--policy <file>', 'with --krs: the release policy JSON of the imported key')
    .option('--admin-token-file <file>', 'with --krs/--akv: bearer token file; default: DefaultAzureCredential')
    .option('--sign-key <pem>', 'sign the plaintext model first (ECDSA key); ships model.sig')
    .option('--sig <file>', 'an existing OMS bundle of the model to ship and enforce')
    .option('--chunk-size <bytes>', 'plaintext bytes per chunk: a power of two, 65536..16777216', '1048576')
    .option('--threads <n>', 'worker threads (default: one per free core)')
    .option('--json', 'print one JSON object')
    .action(run((f: SealFlags, dir = '') => sealCommand(io, dir, f)));
  model
    .command('inspect <sealedDir>')
    .description('show the metadata of a sealed model (never keys)')
    .option('--json', 'print one JSON object')
    .action(run((f: Common, dir = '') => inspectCommand(io, dir, f)));
  model
    .command('unseal <sealedDir>')
    .description('decrypt and verify a sealed model into a directory (debugging: writes plaintext)')
    .requiredOption('--out <dir>', 'plaintext output directory (new or empty; prefer a tmpfs)')
    .requiredOption('--unwrap-key <pem>', 'RSA private key (PEM or JWK) that unwraps the data key')
    .option('--i-understand-this-writes-plaintext', 'required: the decrypted model is written to --out')
    .option('--threads <n>', 'worker threads (default: one per free core)')
    .option('--json', 'print one JSON object')
    .action(run((f: UnsealFlags, dir = '') => unsealCommand(io, dir, f)));
}

async function signCommand(io: CliIo, path: string, f: SignFlags): Promise<0 | 1 | 2> {
  const model = await existing(io, path, 'model');
  const out = f.out ? resolve(io.cwd, f.out) : await defaultSignatureFile(model);
  const bar = progress(io, f, await modelSize(model));
  const privateKey = await readKey(io, f.key, 'key', loadSigningKey);
  const signed = await signModel(model, { privateKey, signatureFile: out, ignorePaths: f.ignore ?? [], onBytes: bar.add }).finally(bar.stop);
  await writeFile(out, signed.bundleJson).catch((cause: unknown) => {
    throw new UsageError('ERR_IO', `cannot write ${out}`, { cause });
  });
  const m = signed.manifest;
  report(io, f, { ok: true, signature: out, rootDigest: m.rootDigest, files: m.resources.length, ignorePaths: m.serialization.ignorePaths ?? [] }, [
    `SIGNED: ${path} -> ${out}`,
    `  root digest sha256:${m.rootDigest}, ${m.resources.length} files`,
  ]);
  return EXIT.ok;
}

async function verifyCommand(io: CliIo, path: string, f: VerifyFlags): Promise<0 | 1 | 2> {
  const model = await existing(io, path, 'model');
  const trust = await trustFrom(io, f);
  const bundle = await readInput(io, f.sig, 'signature');
  const bar = progress(io, f, await modelSize(model));
  const v = await verifyModel(model, bundle, { trust, signatureFile: resolve(io.cwd, f.sig), ignorePaths: f.ignore ?? [], allowSymlinks: Boolean(f.allowSymlinks), onBytes: bar.add }).finally(bar.stop);
  const errors = v.errors.map((e) => e.toJSON());
  const lines = [`${v.ok ? 'VALID' : 'INVALID'}: ${path}`];
  if (v.rootDigest) lines.push(`  root digest sha256:${v.rootDigest}, ${v.resources} ${v.method ?? ''} resources, ${v.mode} mode`);
  if (v.signer) lines.push(`  signer ${Object.entries(v.signer).map(([k, val]) => `${k}=${val.replace(/\n/g, ', ')}`).join(' ')}`);
  for (const e of errors) lines.push(`  x ${e.code}: ${e.message}`);
  report(io, f, { ok: v.ok, mode: v.mode, modelName: v.modelName, rootDigest: v.rootDigest, method: v.method, resources: v.resources, ignorePaths: v.ignorePaths, signer: v.signer, errors }, lines);
  return v.ok ? EXIT.ok : EXIT.negative;
}

async function trustFrom(io: CliIo, f: VerifyFlags): Promise<VerifyTrust> {
  const modes = [f.pubkey, f.cert, f.identity ?? f.issuer].filter((x) => x !== undefined).length;
  if (modes !== 1) throw new UsageError('ERR_USAGE', 'give exactly one of --pubkey, --cert, or --identity with --issuer');
  if (f.pubkey) return { mode: 'key', publicKeys: [await readInput(io, f.pubkey, 'public key')] };
  if (f.cert) return { mode: 'certificate', trustedCAs: [await readInput(io, f.cert, 'CA certificate')] };
  if (!f.identity || !f.issuer) throw new UsageError('ERR_USAGE', 'keyless verification needs both --identity and --issuer');
  if (!f.trustedRoot) throw new UsageError('ERR_USAGE', 'keyless verification is offline: pass the Sigstore trusted_root.json with --trusted-root');
  let trustedRoot: unknown;
  try {
    trustedRoot = JSON.parse((await readInput(io, f.trustedRoot, 'trusted root')).toString('utf8'));
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw new UsageError('ERR_USAGE', `--trusted-root ${f.trustedRoot} is not JSON`, { cause });
  }
  return { mode: 'sigstore', trustedRoot, identity: f.identity, issuer: f.issuer };
}

async function sealCommand(io: CliIo, dir: string, f: SealFlags): Promise<0 | 1 | 2> {
  const model = await existing(io, dir, 'model');
  const out = await emptyOutput(io, f.out);
  checkKeyFlags(f);
  const sign = f.signKey ? { privateKey: await readKey(io, f.signKey, 'signing key', loadSigningKey) } : undefined;
  const bundle = f.sig ? await readInput(io, f.sig, 'signature') : undefined;
  if (sign && bundle) throw new UsageError('ERR_USAGE', 'give --sign-key or --sig, not both');
  const key = await sealKeyOf(io, f);
  try {
    return await sealWith(io, dir, model, out, f, key, sign, bundle);
  } finally {
    if ('direct' in key) wipe(key.direct.dataKey);
  }
}

/** Exactly one key source: --wrap-key [--kid], --krs --key-name --policy, or --akv --key-name. */
function checkKeyFlags(f: SealFlags): void {
  const sources = [f.wrapKey, f.krs, f.akv].filter((x) => x !== undefined).length;
  if (sources !== 1) throw new UsageError('ERR_USAGE', 'give exactly one of --wrap-key, --krs or --akv');
  if (f.wrapKey !== undefined && (f.keyName ?? f.policy ?? f.adminTokenFile) !== undefined) throw new UsageError('ERR_USAGE', '--key-name, --policy and --admin-token-file go with --krs or --akv, not --wrap-key');
  if (f.wrapKey === undefined && f.kid !== undefined) throw new UsageError('ERR_USAGE', '--kid goes with --wrap-key; with a key service the versioned key id is recorded');
  if (f.wrapKey === undefined && !f.keyName) throw new UsageError('ERR_USAGE', `${f.krs ? '--krs' : '--akv'} needs --key-name`);
  if (f.krs !== undefined && !f.policy) throw new UsageError('ERR_USAGE', '--krs needs --policy: the imported key is exportable, and Key Vault requires a release policy for that');
  if (f.akv !== undefined && f.policy !== undefined) throw new UsageError('ERR_USAGE', "--policy goes with --krs; with --akv the key's own release policy applies");
}

async function sealKeyOf(io: CliIo, f: SealFlags): Promise<SealKey> {
  if (f.wrapKey !== undefined) return { wrapper: rsaOaepWrapper(await readInput(io, f.wrapKey, 'wrapping key'), f.kid) };
  const target = { url: (f.krs ?? f.akv)!, flag: f.krs ? ('--krs' as const) : ('--akv' as const), keyName: f.keyName!, adminTokenFile: f.adminTokenFile };
  if (f.krs !== undefined) return { direct: await importDataKey(io, target, f.policy!) };
  return { wrapper: await fetchWrapKey(io, target) };
}

async function sealWith(io: CliIo, dir: string, model: string, out: string, f: SealFlags, key: SealKey, sign: { privateKey: KeyObject } | undefined, bundle: Buffer | undefined): Promise<0 | 1 | 2> {
  const bar = progress(io, f, 0);
  const s = await sealModel(model, {
    outDir: out,
    key,
    ...(sign ? { sign } : {}),
    ...(bundle ? { bundle } : {}),
    chunkSize: intFlag(f.chunkSize ?? '1048576', '--chunk-size'),
    threads: f.threads === undefined ? 'auto' : intFlag(f.threads, '--threads'),
    onProgress: bar.update,
  }).finally(bar.stop);
  const files = s.files.map((x) => ({ name: x.name, size: x.size, chunks: x.chunks }));
  report(io, f, { ok: true, ...s, files }, [
    `SEALED: ${dir} -> ${out} (${files.length} files, ${s.statementFile}${s.bundleSha256 ? ', signed' : ', unsigned'})`,
    `  root digest sha256:${s.rootDigest}; data key ${s.wrap} under ${s.kid}; chunks of ${s.chunkSize} bytes; ${s.threads} worker threads`,
  ]);
  return EXIT.ok;
}

async function inspectCommand(io: CliIo, dir: string, f: Common): Promise<0 | 1 | 2> {
  const info = await inspectSealedModel(await existing(io, dir, 'sealed model'));
  const st = info.statement;
  const lines = [`SEALED MODEL: ${dir}`, st ? `  ${st.file} (${st.signed ? 'signed' : 'unsigned'}), model ${st.modelName}, root digest sha256:${st.rootDigest}, ${st.files} files` : '  no usable statement'];
  for (const c of info.containers) lines.push(`  ${c.name}: ${c.plaintextSize} bytes in ${c.chunks} chunks of ${c.chunkSize}; key ${c.wrap} ${c.kid}`);
  for (const p of info.problems) lines.push(`  x ${p.code}: ${p.message}`);
  report(io, f, { ok: info.problems.length === 0, statement: st, containers: info.containers, errors: info.problems.map((p) => p.toJSON()) }, lines);
  return info.problems.length === 0 ? EXIT.ok : EXIT.negative;
}

async function unsealCommand(io: CliIo, dir: string, f: UnsealFlags): Promise<0 | 1 | 2> {
  if (!f.iUnderstandThisWritesPlaintext) throw new UsageError('ERR_PLAINTEXT_REFUSED', 'unseal writes the decrypted model to disk: add --i-understand-this-writes-plaintext (use a tmpfs)');
  const sealed = await existing(io, dir, 'sealed model');
  const out = await emptyOutput(io, f.out);
  const unwrapper = rsaOaepUnwrapper(await readKey(io, f.unwrapKey, 'unwrapping key', loadRsaPrivateKey));
  const bar = progress(io, f, 0);
  const threads = f.threads === undefined ? 'auto' : intFlag(f.threads, '--threads');
  const u = await unsealModel(sealed, { key: unwrapper, sink: directorySink(out), threads, onProgress: bar.update }).finally(bar.stop);
  report(io, f, { ok: true, out, rootDigest: u.rootDigest, signed: u.signed, threads: u.threads, files: u.files }, [
    `UNSEALED: ${dir} -> ${out} (${u.files.length} files, every chunk and OMS digest verified${u.signed ? '; check model.sig with `zt4ai model verify`' : ''})`,
    `  root digest sha256:${u.rootDigest}`,
  ]);
  return EXIT.ok;
}

function report(io: CliIo, f: Common | undefined, json: Record<string, unknown>, lines: string[]): void {
  if (f?.json) printJson(io, json);
  else io.stdout(`${lines.join('\n')}\n`);
}

/** A progress bar (bytes, rate, ETA) on stderr when it is a terminal and --json is off; else a no-op. */
function progress(io: CliIo, f: Common, total: number): { add: (n: number) => void; update: (p: Progress) => void; stop: () => void } {
  if (!io.isTTY || f.json) return { add: () => {}, update: () => {}, stop: () => {} };
  const write = (s: string) => {
    io.stderr(s);
    return true;
  };
  // cli-progress only needs write() and isTTY (readline's cursor helpers write escape codes through it).
  const stream = { isTTY: true, columns: 100, write } as unknown as NodeJS.WritableStream;
  const bar = new cliProgress.SingleBar({ stream, format: '{phase} [{bar}] {percentage}% {doneh}/{totalh} {rate} ETA {eta_formatted}', hideCursor: false, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
  let phase = '';
  let started = Date.now();
  let done = 0;
  const update = (p: Progress) => {
    if (p.phase !== phase) {
      if (phase) bar.stop();
      phase = p.phase;
      started = Date.now();
      bar.start(Math.max(p.total, 1), 0, { phase, doneh: mib(0), totalh: mib(p.total), rate: '' });
    }
    const rate = `${mib((p.done * 1000) / Math.max(1, Date.now() - started))}/s`;
    bar.update(p.done, { doneh: mib(p.done), totalh: mib(p.total), rate });
  };
  const add = (n: number) => {
    done += n;
    update({ phase: 'hash', done, total });
  };
  return { add, update, stop: () => phase && bar.stop() };
}

function mib(n: number): string {
  return n >= 1 << 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

async function modelSize(path: string): Promise<number> {
  const files = await listModelFiles(path, { ignorePaths: [...DEFAULT_IGNORE_PATHS], allowSymlinks: true }).catch(() => []);
  return files.reduce((n, x) => n + x.size, 0);
}

async function existing(io: CliIo, path: string, what: string): Promise<string> {
  const abs = resolve(io.cwd, path);
  await stat(abs).catch((cause: unknown) => {
    throw new UsageError('ERR_IO', `cannot read ${what} "${path}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  });
  return abs;
}

async function emptyOutput(io: CliIo, path: string): Promise<string> {
  const abs = resolve(io.cwd, path);
  const entries = await readdir(abs).catch(() => []);
  if (entries.length > 0) throw new UsageError('ERR_USAGE', `output directory "${path}" is not empty`);
  return abs;
}

async function readInput(io: CliIo, file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(resolve(io.cwd, file));
  } catch (cause) {
    throw new UsageError('ERR_IO', `cannot read ${what} file "${file}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
}

/** Parses a private key file into a KeyObject and wipes the file's bytes from memory. */
async function readKey(io: CliIo, file: string, what: string, load: (b: Buffer) => KeyObject): Promise<KeyObject> {
  const pem = await readInput(io, file, what);
  try {
    return load(pem);
  } finally {
    pem.fill(0);
  }
}

function intFlag(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError('ERR_USAGE', `${name} "${v}" is not a non-negative integer`);
  return n;
}

