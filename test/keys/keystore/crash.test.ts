import { createPublicKey, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCheckpointKey } from '../../../keys/audit/checkpoint.js';
import { verifyAuditLog } from '../../../keys/audit/verify.js';
import { generateKekFile, kekFromFile } from '../../../keys/keystore/kek-sources.js';
import { Keystore } from '../../../keys/keystore/keystore.js';
import { openSqliteStore } from '../../../keys/keystore/sqlite/open.js';
import { runAndKill } from '../../helpers/kill-child.js';
import { REPO_ROOT } from '../../helpers/shared.js';

const ROUNDS = 5;
const CHILD = resolve(REPO_ROOT, 'test/keys/keystore/crash-child.ts');

describe('crash safety: SIGKILL during bursts of key creation and rotation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zt4ai-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses no acknowledged key, corrupts none, and keeps the audit log verifiable', async () => {
    const dataDir = join(dir, 'data');
    const kekFile = join(dir, 'kek');
    const checkpointFile = join(dir, 'checkpoint.pem');
    await generateKekFile(kekFile);
    const checkpoint = generateCheckpointKey();
    writeFileSync(checkpointFile, checkpoint.privateKeyPem, { mode: 0o600 });

    const acked: Array<[string, string]> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const run = await runAndKill(process.execPath, ['--import', 'tsx', CHILD, dataDir, kekFile, checkpointFile, String(round)], {
        cwd: REPO_ROOT,
        armOn: /^ACK /m,
        killAfterMs: randomInt(50, 1000),
      });
      expect(run.signal, run.stderr).toBe('SIGKILL');
      const lines = run.lines.filter((l) => l.startsWith('ACK '));
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) acked.push(l.split(' ').slice(1) as [string, string]);
    }

    const store = openSqliteStore(dataDir, { readonly: true });
    try {
      const keystore = new Keystore({ storage: store.keys, kek: await kekFromFile(kekFile) });
      for (const [name, version] of acked) {
        const { material } = await keystore.exportForRelease(name, { version });
        expect(material.length).toBeGreaterThan(0);
        material.fill(0);
      }
      const integrity = await keystore.checkIntegrity();
      expect(integrity.failures).toEqual([]);
      expect(integrity.checked).toBeGreaterThanOrEqual(acked.length);
      const verdict = await verifyAuditLog(store.audit, createPublicKey(checkpoint.publicKeyPem));
      expect(verdict).toMatchObject({ ok: true });
      // Every committed version has its audit record: the two are written in one transaction.
      const created = (await store.audit.query({ kinds: ['key-created', 'key-rotated'], limit: 1000 })).length;
      expect(created).toBe(integrity.checked);
      console.info(`[crash] ${ROUNDS} SIGKILLs: ${acked.length} acknowledged versions, ${integrity.checked} stored, ${verdict.ok ? verdict.entries : 0} audit entries`);
    } finally {
      store.close();
    }
  }, 60_000);
});
