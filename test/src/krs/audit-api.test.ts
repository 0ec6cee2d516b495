import { createPublicKey } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { type AuditCheckpoint, type AuditEntry, checkpointKeyId, verifyAuditLog } from '../../../keys/audit/index.js';
import { openSqliteStore } from '../../../keys/keystore/index.js';
import { ATTEST_URL, removeTempDirs, simulatedRequest } from './fixtures.js';
import { KV, exportableKey, keyApp, policyData, teeEvidence, teeKey } from './key-fixtures.js';

afterAll(removeTempDirs);

type Page = { value: AuditEntry[]; nextLink: string | null };

describe('audit API and attestation entries', () => {
  it('records every attest decision (outcome, codes, jti), never the token; concurrent decisions share commits but each is recorded', async () => {
    const krs = await keyApp({ config: { auditCheckpointEvery: 5 } });
    try {
      const tee = teeKey();
      const evidence = await Promise.all(Array.from({ length: 12 }, () => teeEvidence({ tee })));
      const tokens = await Promise.all(evidence.map((e) => krs.attest(e)));
      const refused = await krs.app.inject({ method: 'POST', url: ATTEST_URL, payload: await simulatedRequest({ reportData: Buffer.alloc(64, 1) }) });
      expect(refused.statusCode).toBe(403);
      const page = (await krs.call('GET', '/audit?kind=attestation&limit=1000')).json<Page>();
      expect(page.value).toHaveLength(13);
      expect(page.value.map((e) => e.seq)).toEqual([...page.value.map((e) => e.seq)].sort((a, b) => a - b));
      const issued = page.value.filter((e) => e.details.outcome === 'issued');
      expect(issued.map((e) => e.details.jti).sort()).toEqual(tokens.map((t) => decodeJwt(t).jti).sort());
      expect(issued[0]!.details).toMatchObject({ simulated: true, fresh: false, measurement: expect.stringMatching(/^[0-9a-f]{96}$/) });
      expect(page.value.at(-1)).toMatchObject({ kind: 'attestation', actor: 'krs', details: { outcome: 'rejected', code: 'ERR_RUNTIME_DATA_NOT_BOUND', reasons: ['ERR_RUNTIME_DATA_NOT_BOUND', 'ERR_RUNTIME_DATA_NOT_BOUND'] } });
      const text = JSON.stringify(page);
      for (const t of tokens) expect(text).not.toContain(t.split('.')[1]!);
    } finally {
      await krs.close();
    }
  });

  it('queries by key, kind and time, pages with nextLink, tails with last; bad queries are 400; auditors need a token', async () => {
    const krs = await keyApp();
    try {
      const policy = policyData('https://krs.test.example', [{ claim: 'x-ms-sevsnpvm-vmpl', equals: 0 }]);
      for (const n of ['a', 'b']) await krs.call('POST', `/keys/${n}/create${KV}`, exportableKey(policy));
      for (let i = 0; i < 4; i++) await krs.call('POST', `/keys/a/rotate${KV}`);
      const first = (await krs.call('GET', '/audit?key=a&limit=2')).json<Page>();
      expect(first.value.map((e) => e.kind)).toEqual(['key-created', 'key-rotated']);
      const all: AuditEntry[] = [...first.value];
      let next = first.nextLink;
      while (next) {
        const page = (await krs.call('GET', next)).json<Page>();
        all.push(...page.value);
        next = page.nextLink;
      }
      expect(all.map((e) => e.kind)).toEqual(['key-created', ...Array(4).fill('key-rotated')]);
      expect(all.every((e) => e.subject.name === 'a' && e.actor === 'admin-token')).toBe(true);
      const since = all[2]!.time;
      expect((await krs.call('GET', `/audit?key=a&since=${encodeURIComponent(since)}`)).json<Page>().value.every((e) => e.time >= since)).toBe(true);
      expect((await krs.call('GET', '/audit?until=2000-01-01T00:00:00Z')).json<Page>().value).toEqual([]);
      expect((await krs.call('GET', '/audit?last=2')).json<Page>().value.map((e) => e.subject.name)).toEqual(['a', 'a']);
      for (const q of ['since=yesterday', 'limit=0', 'limit=5000', 'kind=nonsense', 'key=a/b', 'last=3&key=a', 'after=-1']) {
        const res = await krs.call('GET', `/audit?${q}`);
        expect(res.statusCode, q).toBe(400);
        expect(res.json<{ error: { zt4aiCode: string } }>().error.zt4aiCode, q).toBe('ERR_AUDIT_QUERY');
      }
      const anonymous = await krs.call('GET', '/audit', undefined, null);
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer /);
    } finally {
      await krs.close();
    }
  });

  it('signs checkpoints every N entries and at shutdown, with the key GET /audit/checkpoint-key publishes; the log verifies', async () => {
    const krs = await keyApp({ config: { auditCheckpointEvery: 4 } });
    const none = await krs.call('GET', '/audit/checkpoints/latest');
    expect(none.statusCode).toBe(404);
    expect(none.json<{ error: { zt4aiCode: string } }>().error.zt4aiCode).toBe('ERR_NO_CHECKPOINT');
    for (let i = 0; i < 6; i++) await krs.call('POST', `/keys/k${i}/create${KV}`, { kty: 'oct' });
    const latest = (await krs.call('GET', '/audit/checkpoints/latest')).json<AuditCheckpoint>();
    expect(latest.seq).toBe(4);
    const keyRes = await krs.app.inject({ url: '/audit/checkpoint-key' });
    expect(keyRes.headers['content-type']).toMatch(/application\/x-pem-file/);
    const publicKey = createPublicKey(keyRes.body);
    expect(checkpointKeyId(publicKey)).toBe(latest.keyId);
    await krs.close();
    const store = openSqliteStore(krs.dataDir, { readonly: true });
    try {
      const checkpoints = await store.audit.checkpoints();
      expect(checkpoints.map((c) => c.seq)).toEqual([4, 6]);
      expect(await verifyAuditLog(store.audit, publicKey, { anchor: latest })).toMatchObject({ ok: true, entries: 6, lastCheckpointSeq: 6, uncheckpointed: 0 });
    } finally {
      store.close();
    }
  });
});
