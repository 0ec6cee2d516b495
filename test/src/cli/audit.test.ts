import { cpSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateCheckpointKey } from '../../../keys/audit/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';
import { removeTempDirs, tempDir } from '../krs/fixtures.js';
import { KV, keyApp } from '../krs/key-fixtures.js';

/**
 * `zt4ai audit verify` against an attacker with write access to the database file: the append-only
 * triggers are dropped first, then entries are edited, deleted, swapped, or the tail is cut.
 */
let dataDir: string;
let anchorFile: string;
let tokenFile: string;
let url: string;
let closeServer: () => Promise<void>;

beforeAll(async () => {
  const krs = await keyApp({ config: { auditCheckpointEvery: 10 } });
  for (let i = 0; i < 7; i++) {
    await krs.call('POST', `/keys/k${i}/create${KV}`, { kty: 'oct' });
    for (let r = 0; r < 4; r++) await krs.call('POST', `/keys/k${i}/rotate${KV}`);
  }
  // 35 entries; periodic checkpoints at 10, 20, 30. An auditor keeps the shutdown checkpoint (35) as an anchor.
  await krs.app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(krs.app.server.address() as AddressInfo).port}`;
  tokenFile = join(tempDir('audit-cli'), 'token');
  writeFileSync(tokenFile, krs.token, { mode: 0o600 });
  dataDir = krs.dataDir;
  let closed = false;
  closeServer = async () => {
    if (closed) return;
    closed = true;
    await krs.close();
    const db = new Database(join(dataDir, 'keystore.db'), { readonly: true });
    const last = db.prepare('SELECT seq, hash, time, key_id AS keyId, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1').get();
    db.close();
    anchorFile = join(tempDir('anchor'), 'anchor.json');
    writeFileSync(anchorFile, JSON.stringify(last));
  };
});
afterAll(removeTempDirs);

/** A copy of the data directory with `sql` run on it as an attacker would (triggers dropped). */
function tampered(...statements: string[]): string {
  const copy = join(tempDir('tampered'), 'data');
  cpSync(dataDir, copy, { recursive: true });
  const db = new Database(join(copy, 'keystore.db'));
  for (const t of ['audit_log_append_only_u', 'audit_log_append_only_d', 'audit_checkpoints_append_only_u', 'audit_checkpoints_append_only_d']) db.exec(`DROP TRIGGER ${t}`);
  for (const sql of statements) db.exec(sql);
  db.close();
  return copy;
}

async function verify(dir: string, ...extra: string[]): Promise<{ code: number; out: Record<string, unknown> }> {
  const r = await cli(['audit', 'verify', '--data-dir', dir, '--json', ...extra]);
  return { code: r.code, out: r.json() };
}

describe('zt4ai audit tail', () => {
  it('shows the last entries over the audit API (--krs) and from the data directory', async () => {
    const remote = await cli(['audit', 'tail', '--krs', url, '--admin-token-file', tokenFile, '-n', '3', '--json']);
    expect(remote.code, remote.stderr).toBe(0);
    expect((remote.json().entries as Array<{ seq: number }>).map((e) => e.seq)).toEqual([33, 34, 35]);
    const denied = await cli(['audit', 'tail', '--krs', url, '-n', '3']);
    expect(denied.code).toBe(2);
    expect(denied.stderr).toMatch(/401 Unauthorized \(ERR_AUTH_MISSING\)/);
    await closeServer();
    const local = await cli(['audit', 'tail', '--data-dir', dataDir, '-n', '2']);
    expect(local.code).toBe(0);
    const lines = local.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^#35 \S+ key-rotated k6\/[0-9a-f]{32} by admin-token \{/);
  });
});

describe('zt4ai audit verify', () => {
  beforeAll(() => closeServer());

  it('passes on the untouched log (exit 0), with the anchor too', async () => {
    const ok = await verify(dataDir, '--anchor', anchorFile, '--require-checkpoint');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatchObject({ ok: true, entries: 35, lastCheckpointSeq: 35, uncheckpointed: 0 });
    const text = await cli(['audit', 'verify', '--data-dir', dataDir]);
    expect(text.stdout).toBe('audit log intact: 35 entries, last checkpoint at 35, 0 after it\n');
  });

  it('fails on an edited entry', async () => {
    const r = await verify(tampered(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 15`));
    expect(r).toEqual({ code: 1, out: expect.objectContaining({ ok: false, seq: 15, code: 'ERR_AUDIT_HASH' }) });
  });

  it('fails on a deleted entry', async () => {
    const r = await verify(tampered('DELETE FROM audit_log WHERE seq = 15'));
    expect(r).toEqual({ code: 1, out: expect.objectContaining({ ok: false, seq: 15, code: 'ERR_AUDIT_SEQ_GAP' }) });
  });

  it('fails on swapped entries', async () => {
    const swap = (a: number, b: number): string[] => [
      `UPDATE audit_log SET seq = -1 WHERE seq = ${a}`,
      `UPDATE audit_log SET seq = ${a} WHERE seq = ${b}`,
      `UPDATE audit_log SET seq = ${b} WHERE seq = -1`,
    ];
    const r = await verify(tampered(...swap(14, 15)));
    expect(r).toEqual({ code: 1, out: expect.objectContaining({ ok: false, seq: 14, code: 'ERR_AUDIT_HASH' }) });
  });

  it('fails on a tail truncated after the last periodic checkpoint: by the shutdown checkpoint, or by the anchor once that is gone too', async () => {
    const cut = tampered('DELETE FROM audit_log WHERE seq > 30');
    expect(await verify(cut)).toEqual({ code: 1, out: expect.objectContaining({ ok: false, seq: 31, code: 'ERR_AUDIT_TRUNCATED' }) });
    const cutBoth = tampered('DELETE FROM audit_log WHERE seq > 30', 'DELETE FROM audit_checkpoints WHERE seq > 30');
    expect((await verify(cutBoth)).code).toBe(0);
    expect(await verify(cutBoth, '--anchor', anchorFile)).toEqual({ code: 1, out: expect.objectContaining({ ok: false, seq: 31, code: 'ERR_AUDIT_ANCHOR' }) });
  });

  it('fails on a checkpoint signed by another key (--checkpoint-key pins the real one)', async () => {
    const copy = tampered();
    writeFileSync(join(copy, 'other.pub.pem'), generateCheckpointKey().publicKeyPem);
    const r = await verify(copy, '--checkpoint-key', join(copy, 'other.pub.pem'));
    expect(r).toEqual({ code: 1, out: expect.objectContaining({ ok: false, seq: 10, code: 'ERR_AUDIT_CHECKPOINT_SIGNATURE' }) });
  });

  it('usage and I/O problems are exit 2', async () => {
    expect((await cli(['audit', 'verify'])).code).toBe(2);
    expect((await cli(['audit', 'verify', '--data-dir', '/nonexistent/krs'])).code).toBe(2);
    const badAnchor = join(tempDir('bad-anchor'), 'a.json');
    writeFileSync(badAnchor, '{"seq":"x"}');
    expect((await cli(['audit', 'verify', '--data-dir', dataDir, '--anchor', badAnchor])).code).toBe(2);
    expect((await cli(['audit', 'verify', '--data-dir', dataDir, '--anchor', '/nonexistent/anchor.json'])).code).toBe(2);
    expect((await cli(['audit', 'tail', '--data-dir', dataDir, '-n', '0'])).code).toBe(2);
    expect((await cli(['audit', 'tail'])).code).toBe(2);
  });
});
