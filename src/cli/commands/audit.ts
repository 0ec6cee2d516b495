import { type KeyObject, createPublicKey } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { request } from 'undici';
import { type AuditCheckpoint, type AuditEntry, verifyAuditLog } from '../../../keys/audit/index.js';
import { type SqliteStore, isKeystoreError, openSqliteStore } from '../../../keys/keystore/index.js';
import { CHECKPOINT_PUBLIC_KEY_FILE } from '../../krs/checkpoint-key-file.js';
import { isLoopback } from '../../krs/config.js';
import { readInput } from '../inputs.js';
import { type CliIo, type CommandResult, EXIT, type ExitCode, UsageError, printJson } from '../io.js';

interface VerifyFlags {
  dataDir: string;
  checkpointKey?: string;
  anchor?: string;
  requireCheckpoint?: boolean;
  json?: boolean;
}

interface TailFlags {
  dataDir?: string;
  krs?: string;
  adminTokenFile?: string;
  n: string;
  json?: boolean;
}

/** `zt4ai audit ...`: the KRS's hash-chained, checkpointed audit log. */
export function registerAuditCommands(program: Command, io: CliIo, result: CommandResult): void {
  const audit = program.command('audit').description("the key-release service's tamper-evident audit log");
  audit
    .command('verify')
    .description('verify the hash chain and signed checkpoints of a KRS data directory (exit 0 intact, 1 broken, 2 usage)')
    .requiredOption('--data-dir <dir>', 'the KRS data directory (keystore.db), opened read-only')
    .option('--checkpoint-key <pem>', `checkpoint public key (pin the one GET /audit/checkpoint-key gave you); default <data-dir>/${CHECKPOINT_PUBLIC_KEY_FILE}`)
    .option('--anchor <file>', 'a checkpoint kept outside the store (JSON of GET /audit/checkpoints/latest): catches a cut tail')
    .option('--require-checkpoint', 'fail when the log has no signed checkpoint')
    .option('--json', 'print one JSON object: ok, entries, lastSeq, lastCheckpointSeq, uncheckpointed, or seq, code, message')
    .action(async (flags: VerifyFlags) => {
      result.exitCode = await verify(io, flags);
    });
  audit
    .command('tail')
    .description('the last entries of the log, from a data directory or over the audit API (role audit.read)')
    .option('--data-dir <dir>', 'read the KRS data directory')
    .option('--krs <url>', 'or ask a KRS (GET /audit?last=N)')
    .option('--admin-token-file <file>', 'with --krs: bearer token file')
    .option('-n <count>', 'how many entries (1-1000)', '20')
    .option('--json', 'print one JSON object: entries')
    .action(async (flags: TailFlags) => {
      result.exitCode = await tail(io, flags);
    });
}

async function verify(io: CliIo, flags: VerifyFlags): Promise<ExitCode> {
  const dataDir = resolve(io.cwd, flags.dataDir);
  const key = await publicKey(io, flags.checkpointKey ?? join(dataDir, CHECKPOINT_PUBLIC_KEY_FILE));
  const anchor = flags.anchor ? parseAnchor((await readInput(io, flags.anchor, 'anchor')).toString('utf8'), flags.anchor) : undefined;
  const store = openStore(dataDir);
  try {
    const verdict = await verifyAuditLog(store.audit, key, { ...(anchor ? { anchor } : {}), ...(flags.requireCheckpoint ? { requireCheckpoint: true } : {}) });
    if (flags.json) printJson(io, verdict);
    else if (verdict.ok) io.stdout(`audit log intact: ${verdict.entries} entries, last checkpoint at ${verdict.lastCheckpointSeq ?? 'none'}, ${verdict.uncheckpointed} after it\n`);
    else io.stdout(`audit log BROKEN at entry ${verdict.seq}: ${verdict.message} [${verdict.code}]\n`);
    return verdict.ok ? EXIT.ok : EXIT.negative;
  } finally {
    store.close();
  }
}

async function tail(io: CliIo, flags: TailFlags): Promise<ExitCode> {
  const n = Number(flags.n);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError('ERR_USAGE', `-n "${flags.n}" must be an integer in 1..1000`);
  if ((flags.dataDir === undefined) === (flags.krs === undefined)) throw new UsageError('ERR_USAGE', 'give either --data-dir or --krs');
  let entries: AuditEntry[];
  if (flags.dataDir) {
    const store = openStore(resolve(io.cwd, flags.dataDir));
    try {
      entries = await store.audit.tail(n);
    } finally {
      store.close();
    }
  } else {
    const fetched = await fetchTail(io, flags, n);
    if (!Array.isArray(fetched)) return fetched;
    entries = fetched;
  }
  if (flags.json) printJson(io, { ok: true, entries });
  else io.stdout(entries.map(line).join(''));
  return EXIT.ok;
}

async function fetchTail(io: CliIo, flags: TailFlags, n: number): Promise<AuditEntry[] | ExitCode> {
  const url = new URL(`${flags.krs!.replace(/\/+$/, '')}/audit?last=${n}`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname.replace(/^\[|\]$/g, ''))) throw new UsageError('ERR_USAGE', '--krs: plain http only to loopback; use https');
  const token = flags.adminTokenFile ? (await readInput(io, flags.adminTokenFile, 'admin token')).toString('utf8').trim() : undefined;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (cause) {
    throw new UsageError('ERR_IO', `cannot reach ${url.origin}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
  const body = (await res.body.json().catch(() => ({}))) as { value?: AuditEntry[]; error?: { code?: string; message?: string; zt4aiCode?: string } };
  if (res.statusCode === 200 && Array.isArray(body.value)) return body.value;
  const e = body.error ?? {};
  if (flags.json) printJson(io, { ok: false, status: res.statusCode, code: e.code ?? null, zt4aiCode: e.zt4aiCode ?? null, message: e.message ?? null });
  else io.stderr(`zt4ai audit: ${res.statusCode} ${e.code ?? ''}${e.zt4aiCode ? ` (${e.zt4aiCode})` : ''}: ${e.message ?? 'request failed'}\n`);
  return res.statusCode === 401 ? EXIT.usage : EXIT.negative;
}

function line(e: AuditEntry): string {
  const subject = e.subject.name ? `${e.subject.name}${e.subject.version ? `/${e.subject.version}` : ''}` : '-';
  return `#${e.seq} ${e.time} ${e.kind} ${subject} by ${e.actor} ${JSON.stringify(e.details)}\n`;
}

function openStore(dataDir: string): SqliteStore {
  try {
    return openSqliteStore(dataDir, { readonly: true });
  } catch (e) {
    if (isKeystoreError(e)) throw new UsageError(e.code, e.message, { cause: e });
    throw e;
  }
}

async function publicKey(io: CliIo, file: string): Promise<KeyObject> {
  const pem = (await readInput(io, file, 'checkpoint key')).toString('utf8');
  try {
    return createPublicKey(pem);
  } catch (cause) {
    throw new UsageError('ERR_USAGE', `--checkpoint-key ${file} is not a PEM public (or private) key`, { cause });
  }
}

function parseAnchor(text: string, file: string): AuditCheckpoint {
  let a: Partial<Record<keyof AuditCheckpoint, unknown>>;
  try {
    a = JSON.parse(text) as typeof a;
  } catch (cause) {
    throw new UsageError('ERR_USAGE', `--anchor ${file} is not JSON`, { cause });
  }
  const ok = Number.isSafeInteger(a.seq) && (a.seq as number) > 0 && typeof a.hash === 'string' && typeof a.time === 'string' && typeof a.keyId === 'string' && typeof a.signature === 'string';
  if (!ok) throw new UsageError('ERR_USAGE', `--anchor ${file} is not a checkpoint {seq, hash, time, keyId, signature}`);
  return a as AuditCheckpoint;
}
