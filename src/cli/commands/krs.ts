import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createSimulatedRoots, simulatedRootsPem } from '../../../simulator/index.js';
import { type KrsConfig, type KrsConfigInput, loadKrsConfigFile, resolveKrsConfig } from '../../krs/config.js';
import { KrsStartupError } from '../../krs/errors.js';
import { createLogger } from '../../krs/logging.js';
import { type KrsServer, startKrsServer } from '../../krs/server.js';
import { rotateSigningKey } from '../../krs/signing-keys.js';
import { type CliIo, type CommandResult, EXIT, UsageError, printJson } from '../io.js';

/** Seed of the simulator's fixture roots that --trust-simulator trusts (`zt4ai sim report --seed zt4ai`). */
export const DEFAULT_SIM_SEED = 'zt4ai';

/** For tests and embedders: stop `krs serve` without a signal, and see the server once it listens. */
export interface KrsCliHooks {
  readonly stop?: AbortSignal;
  readonly onListening?: (server: KrsServer) => void;
}

interface ServeFlags {
  config?: string;
  listen?: string;
  dataDir?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustSimulator?: boolean;
  simSeed?: string;
  simRoots?: string;
  tokenLifetime?: string;
  issuer?: string;
  adminTokenFile?: string;
  kekFile?: string;
  json?: boolean;
}

interface RotateFlags {
  dataDir: string;
  config?: string;
  overlap?: string;
  keyBits?: string;
  retirePrevious?: boolean;
  json?: boolean;
}

/** `zt4ai krs ...`: the key-release service's attestation endpoint. */
export function registerKrsCommands(program: Command, io: CliIo, result: CommandResult, hooks: KrsCliHooks = {}): void {
  const krs = program.command('krs').description('key-release service: MAA-compatible SEV-SNP attestation endpoint and its signing keys');
  krs
    .command('serve')
    .description('serve attestation (MAA), the key API and release (Key Vault), the audit API, /healthz, /metrics until SIGINT/SIGTERM')
    .option('--config <file>', 'JSON file with the same settings (flags win)')
    .option('--listen <host:port>', 'listen address (default 127.0.0.1:8443; port 0 picks a free one)')
    .option('--data-dir <dir>', 'signing keys, nonce key, keystore and audit log, release signer (default ./.zt4ai/krs)')
    .option('--tls-cert <file>', 'PEM certificate; with --tls-key serves HTTPS (required off loopback)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--trust-simulator', "TRUST the simulator's roots (tokens say x-zt4ai-simulated: true); never in production")
    .option('--sim-seed <seed>', `seed of the simulator fixture roots to trust (default "${DEFAULT_SIM_SEED}")`)
    .option('--sim-roots <file>', 'also trust this simulated roots PEM (roots.pem of `zt4ai sim report`)')
    .option('--token-lifetime <seconds>', 'token lifetime (default 300)')
    .option('--issuer <url>', 'token issuer URL (default: the listen URL)')
    .option('--admin-token-file <file>', 'bearer token (file content, trimmed; 0600) with every role on the key, release and audit APIs')
    .option('--kek-file <file>', 'key-encryption key of the keystore (32 bytes or their base64, 0600); default <data-dir>/kek.key, generated')
    .option('--json', 'print the listening line as JSON')
    .action(async (flags: ServeFlags) => {
      result.exitCode = await serve(flags, io, hooks);
    });
  krs
    .command('rotate-signing-key')
    .description('add a new active token-signing key; the previous one stays in /certs for the overlap')
    .requiredOption('--data-dir <dir>', 'the KRS data directory')
    .option('--config <file>', 'take the overlap from this config (signingKeyOverlapSeconds, else 2 x tokenLifetimeSeconds)')
    .option('--overlap <seconds>', 'how long the previous key stays published (default 600)')
    .option('--key-bits <n>', 'RSA size of the new key: 2048, 3072 or 4096 (default: that of the current key)')
    .option('--retire-previous', 'drop every previous key from /certs now (tokens they signed stop verifying)')
    .option('--json', 'print one JSON object: kid, published, removed')
    .action(async (flags: RotateFlags) => {
      result.exitCode = await rotate(flags, io);
    });
}

async function serve(flags: ServeFlags, io: CliIo, hooks: KrsCliHooks): Promise<0> {
  const config = await startupStep(() => serveConfig(flags, io));
  if (config.trustSimulator) {
    io.stderr('zt4ai krs: WARNING: --trust-simulator: SIMULATED AMD roots are trusted; tokens prove nothing about real hardware. Never use this in production.\n');
  }
  // Without --trust-simulator these roots are only a diagnosis: simulated evidence gets ERR_SIMULATED_NOT_TRUSTED.
  const pems = [simulatedRootsPem(await createSimulatedRoots({ seed: flags.simSeed ?? DEFAULT_SIM_SEED }))];
  const logger = createLogger({ level: config.logLevel, stream: { write: (line: string) => io.stderr(line) } });
  const server = await startupStep(() => startKrsServer(config, { simulatedRootsPem: pems, logger }));
  io.stdout(flags.json ? `${JSON.stringify({ listening: server.url })}\n` : `listening on ${server.url}\n`);
  hooks.onListening?.(server);
  await untilStopped(hooks.stop);
  await server.close();
  return EXIT.ok;
}

async function serveConfig(flags: ServeFlags, io: CliIo): Promise<KrsConfig> {
  const file = flags.config ? await loadKrsConfigFile(resolve(io.cwd, flags.config)) : null;
  const fromFile: KrsConfigInput = file ? rebase(file.input, file.baseDir) : {};
  const path = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(io.cwd, p));
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('ERR_USAGE', '--tls-cert and --tls-key go together');
  const fromFlags: Record<string, unknown> = {
    listen: flags.listen,
    dataDir: path(flags.dataDir),
    tls: flags.tlsCert && flags.tlsKey ? { certFile: path(flags.tlsCert), keyFile: path(flags.tlsKey) } : undefined,
    trustSimulator: flags.trustSimulator ? true : undefined,
    simulatorRootsFile: path(flags.simRoots),
    tokenLifetimeSeconds: flags.tokenLifetime,
    issuer: flags.issuer,
    kek: flags.kekFile === undefined ? undefined : { file: path(flags.kekFile) },
    adminAuth: flags.adminTokenFile === undefined ? undefined : { ...(fromFile.adminAuth as object | undefined), tokenFile: path(flags.adminTokenFile) },
  };
  const merged = { ...fromFile, ...Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined)) };
  return resolveKrsConfig(merged, io.cwd);
}

/** Paths in a config file are relative to the file; make them absolute before flags are merged in. */
function rebase(input: KrsConfigInput, fileDir: string): KrsConfigInput {
  const abs = (p: unknown): unknown => (typeof p === 'string' ? resolve(fileDir, p) : p);
  const tls = input.tls as { certFile?: unknown; keyFile?: unknown } | null | undefined;
  const kds = input.kds as { cacheDir?: unknown } | null | undefined;
  const kek = input.kek as { file?: unknown } | null | undefined;
  const admin = input.adminAuth as { tokenFile?: unknown; jwt?: { jwksFile?: unknown } | null } | null | undefined;
  return {
    ...input,
    ...(input.dataDir !== undefined ? { dataDir: abs(input.dataDir) } : {}),
    ...(input.simulatorRootsFile !== undefined ? { simulatorRootsFile: abs(input.simulatorRootsFile) } : {}),
    ...(tls ? { tls: { ...tls, certFile: abs(tls.certFile), keyFile: abs(tls.keyFile) } } : {}),
    ...(kds && typeof kds === 'object' ? { kds: { ...kds, ...(kds.cacheDir !== undefined ? { cacheDir: abs(kds.cacheDir) } : {}) } } : {}),
    ...(kek && typeof kek === 'object' && kek.file !== undefined ? { kek: { ...kek, file: abs(kek.file) } } : {}),
    ...(admin && typeof admin === 'object' ? { adminAuth: rebaseAdmin(admin, abs) } : {}),
  };
}

function rebaseAdmin(admin: { tokenFile?: unknown; jwt?: { jwksFile?: unknown } | null }, abs: (p: unknown) => unknown): Record<string, unknown> {
  const jwt = admin.jwt && typeof admin.jwt === 'object' && admin.jwt.jwksFile !== undefined ? { jwt: { ...admin.jwt, jwksFile: abs(admin.jwt.jwksFile) } } : {};
  return { ...admin, ...(admin.tokenFile !== undefined ? { tokenFile: abs(admin.tokenFile) } : {}), ...jwt };
}

async function rotate(flags: RotateFlags, io: CliIo): Promise<0> {
  const dataDir = resolve(io.cwd, flags.dataDir);
  const overlapSeconds = await startupStep(async () => {
    if (flags.overlap !== undefined) return resolveKrsConfig({ signingKeyOverlapSeconds: flags.overlap }).signingKeyOverlapSeconds;
    if (!flags.config) return resolveKrsConfig({}).signingKeyOverlapSeconds;
    const file = await loadKrsConfigFile(resolve(io.cwd, flags.config));
    return resolveKrsConfig({ tokenLifetimeSeconds: file.input.tokenLifetimeSeconds, signingKeyOverlapSeconds: file.input.signingKeyOverlapSeconds }).signingKeyOverlapSeconds;
  });
  const keyBits = flags.keyBits === undefined ? undefined : await startupStep(async () => resolveKrsConfig({ signingKeyBits: flags.keyBits }).signingKeyBits);
  const done = await startupStep(() => rotateSigningKey(dataDir, { overlapSeconds, retirePrevious: Boolean(flags.retirePrevious), ...(keyBits ? { keyBits } : {}) }));
  if (flags.json) printJson(io, { ok: true, ...done, overlapSeconds });
  else io.stdout(`new active signing key ${done.kid}\npublished: ${done.published.join(', ')}\n${done.removed.length ? `removed: ${done.removed.join(', ')}\n` : ''}`);
  return EXIT.ok;
}

/** Start-up and configuration failures are usage/I-O errors: exit 2 with the message. */
async function startupStep<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (e instanceof KrsStartupError) throw new UsageError(e.code, e.message, { cause: e });
    throw e;
  }
}

/** Resolves on SIGINT, SIGTERM or the hook's abort, then removes its listeners. */
function untilStopped(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      done();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop);
  });
}
