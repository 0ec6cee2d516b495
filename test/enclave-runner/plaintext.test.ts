import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MARKER, memoryStore, tmpfsStore } from '../../enclave-runner/startup/plaintext.js';
import { Secrets } from '../../enclave-runner/startup/secrets.js';

const shm = `/dev/shm/zt4ai-plaintext-test-${process.pid}`;
afterAll(() => rmSync(shm, { recursive: true, force: true }));

async function write(store: Awaited<ReturnType<typeof tmpfsStore>>, name: string, bytes: Buffer): Promise<void> {
  const sink = await store.sink({ name, size: bytes.length });
  await sink.write(bytes);
  await sink.commit();
}

describe('where plaintext may live', () => {
  it('memory: wipe zeroes the very buffers the backend read', async () => {
    const store = memoryStore();
    const sink = await store.sink({ name: 'w.bin', size: 4 });
    await sink.write(Buffer.from([1, 2, 3, 4]));
    await sink.commit();
    const held = await store.read('w.bin');
    await store.wipe();
    expect([...held]).toEqual([0, 0, 0, 0]);
    await expect(store.read('w.bin')).rejects.toMatchObject({ code: 'ERR_RUNNER_MODEL_LOAD' });
  });

  it('tmpfs: 0700 directory with 0600 files, removed on wipe; a disk-backed directory is refused', async () => {
    const store = await tmpfsStore(join(shm, 'a'));
    await write(store, 'sub/w.bin', Buffer.from('secret weights'));
    expect(statSync(join(shm, 'a')).mode & 0o777).toBe(0o700);
    expect(statSync(join(shm, 'a', 'sub', 'w.bin')).mode & 0o777).toBe(0o600);
    expect((await store.read('sub/w.bin')).toString()).toBe('secret weights');
    store.wipeSync();
    expect(existsSync(join(shm, 'a'))).toBe(false);
    const disk = mkdtempSync(join(tmpdir(), 'zt4ai-disk-'));
    try {
      await expect(tmpfsStore(join(disk, 'model'))).rejects.toMatchObject({ code: 'ERR_RUNNER_UNSEAL_IO', message: expect.stringMatching(/not on tmpfs/) });
    } finally {
      rmSync(disk, { recursive: true, force: true });
    }
  });

  it("removes a killed run's leftovers (marked), but never writes into a foreign directory", async () => {
    mkdirSync(join(shm, 'stale'), { recursive: true });
    writeFileSync(join(shm, 'stale', MARKER), '1\n');
    writeFileSync(join(shm, 'stale', 'old.bin'), 'old plaintext');
    const store = await tmpfsStore(join(shm, 'stale'));
    expect(existsSync(join(shm, 'stale', 'old.bin'))).toBe(false);
    await store.wipe();
    mkdirSync(join(shm, 'foreign'), { recursive: true });
    writeFileSync(join(shm, 'foreign', 'notes.txt'), 'not ours');
    await expect(tmpfsStore(join(shm, 'foreign'))).rejects.toMatchObject({ code: 'ERR_RUNNER_UNSEAL_IO', message: expect.stringMatching(/not made by the runner/) });
    expect(existsSync(join(shm, 'foreign', 'notes.txt'))).toBe(true);
  });

  it('a fresh default directory sweeps those of dead runner processes', async () => {
    const dead = '/dev/shm/zt4ai-runner-999999999-abcdef';
    mkdirSync(dead, { recursive: true });
    writeFileSync(join(dead, MARKER), '999999999\n');
    const store = await tmpfsStore(null);
    expect(existsSync(dead)).toBe(false);
    expect(store.dir).toMatch(new RegExp(`^/dev/shm/zt4ai-runner-${process.pid}-[0-9a-f]{12}$`));
    await store.wipe();
  });
});

describe('Secrets', () => {
  it('zeroes key buffers and removes plaintext on wipe, synchronously too (the exit hook)', async () => {
    const s = new Secrets();
    const key = s.buffer(Buffer.from('released key material'));
    const store = s.store(await tmpfsStore(join(shm, 'secrets')));
    await write(store, 'm.bin', Buffer.from('weights'));
    s.wipeSync();
    expect(key.every((b) => b === 0)).toBe(true);
    expect(existsSync(join(shm, 'secrets'))).toBe(false);
    await s.wipe();
    s.release();
  });
});
