import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { KeyClient, KeyProperties, KeyReleasePolicy, KeyVaultKey } from '@azure/keyvault-keys';
import type { Command } from 'commander';
import { type PolicyError, azureCompatibilityNotes, checkReleasePolicy, formatPolicyError } from '../../../attestation/policy/index.js';
import { isLoopback } from '../../krs/config.js';
import { readInput } from '../inputs.js';
import { type CliIo, type CommandResult, EXIT, type ExitCode, UsageError, printJson } from '../io.js';

interface ApiFlags {
  krs: string;
  adminTokenFile?: string;
  json?: boolean;
}

interface CreateFlags extends ApiFlags {
  kty: string;
  size?: string;
  ops?: string;
  policy?: string;
  immutable?: boolean;
  disabled?: boolean;
}

/** Azure Key Vault and Managed HSM hosts: with these the SDK's own challenge-resource check stays on. */
const AZURE_VAULT = /\.(vault|managedhsm)\.(azure\.net|azure\.cn|usgovcloudapi\.net)$/i;

/**
 * `zt4ai keys ...` on `@azure/keyvault-keys`' KeyClient, so the same commands drive the KRS and a real Key
 * Vault or Managed HSM. Exit 0 done, 1 the service refused (its code is printed), 2 usage, credentials or I/O.
 */
export function registerKeysCommands(program: Command, io: CliIo, result: CommandResult): void {
  const keys = program.command('keys').description('keys with release policies on a zt4ai KRS or an Azure Key Vault / Managed HSM (Key Vault API)');
  const api = (cmd: Command): Command =>
    cmd
      .requiredOption('--krs <url>', 'the KRS (http://127.0.0.1:8443, https://krs.example.com) or https://<vault>.vault.azure.net')
      .option('--admin-token-file <file>', 'bearer token file (the KRS --admin-token-file); default: DefaultAzureCredential')
      .option('--json', 'print one JSON object');
  const named =
    <F extends ApiFlags>(fn: (client: KeyClient, flags: F, name: string) => Promise<unknown>) =>
    async (name: string, flags: F): Promise<void> => {
      result.exitCode = await call(io, flags, (client) => fn(client, flags, name));
    };
  api(keys.command('create <name>').description('create a key (a new version if it exists); with --policy it is exportable under that release policy'))
    .option('--kty <type>', 'oct-HSM, oct, RSA-HSM or RSA', 'oct-HSM')
    .option('--size <bits>', 'oct: 128/192/256 (default 256); RSA: 2048/3072/4096 (default 2048)')
    .option('--ops <list>', 'key operations, comma-separated (e.g. wrapKey,unwrapKey)')
    .option('--policy <file>', 'release policy JSON (Key Vault grammar); makes the key exportable')
    .option('--immutable', 'the release policy can never be changed')
    .option('--disabled', 'create the key disabled')
    .action(named((client, flags: CreateFlags, name) => createKey(io, client, flags, name)));
  api(keys.command('list').description('list keys (current versions)')).action(async (flags: ApiFlags) => {
    result.exitCode = await call(io, flags, listKeys);
  });
  api(keys.command('show <name>').description('a key version: type, attributes, release policy').option('--version <v>', 'a version (default: current)')).action(
    named((client, flags: ApiFlags & { version?: string }, name) => show(client.getKey(name, flags.version ? { version: flags.version } : {}))),
  );
  api(keys.command('rotate <name>').description('a new current version with the same type, size, operations and policy')).action(named((client, _flags, name) => show(client.rotateKey(name))));
  api(keys.command('set-policy <name>').description("replace the current version's release policy (refused when immutable)"))
    .requiredOption('--policy <file>', 'release policy JSON')
    .option('--immutable', 'make the new policy immutable')
    .action(named(async (client, flags: ApiFlags & { policy: string; immutable?: boolean }, name) => show(client.updateKeyProperties(name, { releasePolicy: await readPolicy(io, flags.policy, flags.krs, flags.immutable) }))));
  api(keys.command('delete <name>').description('soft-delete a key (every version); it stays recoverable until purged')).action(
    named(async (client, _flags, name) => {
      const poller = await client.beginDeleteKey(name, { intervalInMs: 500 });
      const deleted = await poller.pollUntilDone();
      return { deleted: deleted.name, recoveryId: deleted.properties.recoveryId ?? null, scheduledPurgeDate: deleted.properties.scheduledPurgeDate?.toISOString() ?? null };
    }),
  );
}

async function createKey(io: CliIo, client: KeyClient, flags: CreateFlags, name: string): Promise<unknown> {
  const size = flags.size === undefined ? undefined : Number(flags.size);
  if (size !== undefined && !Number.isInteger(size)) throw new UsageError('ERR_USAGE', `--size "${flags.size}" is not a number of bits`);
  const releasePolicy = flags.policy ? await readPolicy(io, flags.policy, flags.krs, flags.immutable) : undefined;
  if (flags.immutable && !releasePolicy) throw new UsageError('ERR_USAGE', '--immutable needs --policy');
  return show(
    client.createKey(name, flags.kty, {
      ...(size === undefined ? {} : { keySize: size }),
      ...(flags.ops ? { keyOps: flags.ops.split(',').map((o) => o.trim()) } : {}),
      ...(flags.disabled ? { enabled: false } : {}),
      ...(releasePolicy ? { exportable: true, releasePolicy } : {}),
    }),
  );
}

async function listKeys(client: KeyClient): Promise<unknown> {
  const keys: ReturnType<typeof properties>[] = [];
  for await (const p of client.listPropertiesOfKeys()) keys.push(properties(p));
  return { keys };
}

async function show(key: Promise<KeyVaultKey>): Promise<unknown> {
  const k = await key;
  return { key: { ...properties(k.properties), kty: k.keyType ?? null, keyOps: k.keyOperations ?? [], releasePolicy: policyOf(k.properties.releasePolicy) } };
}

function properties(p: KeyProperties): { name: string; version: string | null; id: string | null; enabled: boolean | null; exportable: boolean | null; updated: string | null } {
  return { name: p.name, version: p.version ?? null, id: p.id ?? null, enabled: p.enabled ?? null, exportable: p.exportable ?? null, updated: p.updatedOn?.toISOString() ?? null };
}

function policyOf(p: KeyReleasePolicy | undefined): { immutable: boolean; policy: unknown } | null {
  if (!p?.encodedPolicy) return null;
  const text = new TextDecoder().decode(p.encodedPolicy);
  try {
    return { immutable: p.immutable ?? false, policy: JSON.parse(text) };
  } catch {
    return { immutable: p.immutable ?? false, policy: text };
  }
}

/** Reads and checks a policy before sending it; warns about what Azure Key Vault would not enforce. */
async function readPolicy(io: CliIo, file: string, url: string, immutable: boolean | undefined): Promise<KeyReleasePolicy> {
  const bytes = await readInput(io, file, 'release policy');
  const checked = checkReleasePolicy(bytes);
  if (!checked.ok) throw new UsageError('ERR_POLICY_INVALID', `--policy ${file}:\n${checked.errors.map((e: PolicyError) => `  ${formatPolicyError(e)}`).join('\n')}`);
  if (isAzureVault(url)) for (const n of azureCompatibilityNotes(checked.policy)) io.stderr(`zt4ai keys: warning: ${n.path}: ${n.message}\n`);
  return { encodedPolicy: new Uint8Array(bytes), contentType: 'application/json; charset=utf-8', ...(immutable ? { immutable: true } : {}) };
}

function isAzureVault(url: string): boolean {
  try {
    return AZURE_VAULT.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** Runs one Key Vault call and prints its result; maps failures to exit codes. */
async function call(io: CliIo, flags: ApiFlags, fn: (client: KeyClient) => Promise<unknown>): Promise<ExitCode> {
  const client = await keyClient(io, flags);
  let out: unknown;
  try {
    out = await fn(client);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    return refused(io, flags, e);
  }
  if (flags.json) printJson(io, { ok: true, ...(out as object) });
  else io.stdout(render(out));
  return EXIT.ok;
}

async function keyClient(io: CliIo, flags: ApiFlags): Promise<KeyClient> {
  let url: URL;
  try {
    url = new URL(flags.krs);
  } catch {
    throw new UsageError('ERR_USAGE', `--krs "${flags.krs}" is not a URL`);
  }
  const insecure = url.protocol === 'http:';
  if (!insecure && url.protocol !== 'https:') throw new UsageError('ERR_USAGE', '--krs must be an http(s) URL');
  // A bearer token in clear text may only travel over loopback.
  if (insecure && !isLoopback(url.hostname.replace(/^\[|\]$/g, ''))) throw new UsageError('ERR_USAGE', `--krs ${flags.krs}: plain http only to loopback; use https`);
  // The Azure SDKs load only when a keys command runs: @azure/identity alone adds most of a second.
  const credential = flags.adminTokenFile ? await staticCredential(io, flags.adminTokenFile) : new (await import('@azure/identity')).DefaultAzureCredential();
  const { KeyClient } = await import('@azure/keyvault-keys');
  return new KeyClient(url.href.replace(/\/+$/, ''), credential, { allowInsecureConnection: insecure, disableChallengeResourceVerification: !AZURE_VAULT.test(url.hostname), retryOptions: { maxRetries: 1 } });
}

async function staticCredential(io: CliIo, file: string): Promise<TokenCredential> {
  const token = (await readFile(resolve(io.cwd, file)).catch((cause: NodeJS.ErrnoException) => {
    throw new UsageError('ERR_IO', `cannot read --admin-token-file "${file}": ${cause.code ?? 'error'}`, { cause });
  })).toString('utf8').trim();
  return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) };
}

/** The service's refusal: Key Vault's code and message, and zt4ai's code when the service is a KRS. */
function refused(io: CliIo, flags: ApiFlags, e: unknown): ExitCode {
  const err = e as { statusCode?: number; code?: string; message?: string; response?: { headers?: { get(name: string): string | undefined } } };
  const status = err.statusCode ?? null;
  const code = err.code ?? 'ERR_REQUEST';
  const message = (err.message ?? 'request failed').split('\n')[0]!;
  const out = { ok: false, status, code, message, zt4aiCode: err.response?.headers?.get('x-zt4ai-error-code') ?? null };
  if (flags.json) printJson(io, out);
  else io.stderr(`zt4ai keys: ${status ?? 'no answer'} ${code}${out.zt4aiCode ? ` (${out.zt4aiCode})` : ''}: ${message}\n`);
  // No answer, or the credential was refused: a setup problem, not the service's verdict on the request.
  return status === null || status === 401 ? EXIT.usage : EXIT.negative;
}

function render(out: unknown): string {
  const o = out as { key?: Record<string, unknown>; keys?: Array<Record<string, unknown>>; deleted?: string; recoveryId?: string | null };
  if (o.keys) return o.keys.length === 0 ? 'no keys\n' : o.keys.map((k) => `${k.name}  ${k.enabled ? 'enabled' : 'disabled'}${k.exportable ? '  exportable' : ''}  ${k.updated ?? ''}\n`).join('');
  if (o.deleted) return `deleted ${o.deleted}${o.recoveryId ? ` (recoverable: ${o.recoveryId})` : ''}\n`;
  const k = o.key!;
  const policy = k.releasePolicy as { immutable: boolean; policy: unknown } | null;
  const lines = [`key ${k.name} version ${k.version}`, `  id ${k.id}`, `  ${k.kty}, ${k.enabled ? 'enabled' : 'disabled'}${k.exportable ? ', exportable' : ''}, ops ${(k.keyOps as string[]).join(',') || '-'}`];
  lines.push(policy ? `  release policy${policy.immutable ? ' (immutable)' : ''}: ${JSON.stringify(policy.policy)}` : '  no release policy');
  return `${lines.join('\n')}\n`;
}
