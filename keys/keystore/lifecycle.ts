import { type KeystoreContext, seconds, toInfo } from './context.js';
import { liveKey, notFound } from './create-version.js';
import { KeystoreError } from './errors.js';
import { assertKeyName } from './names.js';
import type { StoredKey } from './storage.js';
import type { Actor, DeletedKeyInfo } from './types.js';

const DAY = 86_400;

/**
 * Deletion is soft, as in a Key Vault with soft delete: the key and all its versions disappear from get, list
 * and release at once, stay recoverable for `recoverableDays`, and their name stays taken until purged.
 */
export async function deleteKey(ctx: KeystoreContext, name: string, who: Actor): Promise<DeletedKeyInfo> {
  assertKeyName(name);
  const key = await liveKey(ctx, name);
  const current = await ctx.storage.getVersion(name);
  if (!current) throw notFound(name);
  const now = ctx.now();
  const deletedAt = seconds(now);
  const scheduledPurgeDate = deletedAt + key.recoverableDays * DAY;
  await ctx.storage.setDeleted(name, deletedAt, [{ kind: 'key-deleted', subject: { name }, actor: who.actor, details: { scheduledPurgeDate, versions: (await ctx.storage.listVersions(name)).length } }], now.toISOString());
  return { key: toInfo({ ...key, deletedAt }, current), deletedDate: deletedAt, scheduledPurgeDate };
}

export async function recoverKey(ctx: KeystoreContext, name: string, who: Actor): Promise<void> {
  assertKeyName(name);
  await deletedKey(ctx, name);
  await ctx.storage.setDeleted(name, null, [{ kind: 'key-recovered', subject: { name }, actor: who.actor, details: {} }], ctx.now().toISOString());
}

/** Erases a deleted key and every version's sealed material for good (secure_delete overwrites the pages). */
export async function purgeKey(ctx: KeystoreContext, name: string, who: Actor): Promise<void> {
  assertKeyName(name);
  await deletedKey(ctx, name);
  await ctx.storage.purge(name, [{ kind: 'key-purged', subject: { name }, actor: who.actor, details: {} }], ctx.now().toISOString());
}

/** Purges every deleted key whose recovery period is over; returns their names. The KRS runs it periodically. */
export async function purgeExpired(ctx: KeystoreContext, who: Actor): Promise<string[]> {
  const now = seconds(ctx.now());
  const due = (await ctx.storage.listKeys({ deleted: true })).filter(({ key }) => key.deletedAt !== null && key.deletedAt + key.recoverableDays * DAY <= now);
  for (const { key } of due) await purgeKey(ctx, key.name, who);
  return due.map(({ key }) => key.name);
}

export async function getDeletedKey(ctx: KeystoreContext, name: string): Promise<DeletedKeyInfo> {
  assertKeyName(name);
  const key = await deletedKey(ctx, name);
  const current = await ctx.storage.getVersion(name);
  if (!current) throw notFound(name);
  return deletedInfo(key, toInfo(key, current));
}

export async function listDeletedKeys(ctx: KeystoreContext): Promise<DeletedKeyInfo[]> {
  return (await ctx.storage.listKeys({ deleted: true })).map(({ key, current }) => deletedInfo(key, toInfo(key, current)));
}

function deletedInfo(key: StoredKey, info: DeletedKeyInfo['key']): DeletedKeyInfo {
  const deletedDate = key.deletedAt ?? 0;
  return { key: info, deletedDate, scheduledPurgeDate: deletedDate + key.recoverableDays * DAY };
}

async function deletedKey(ctx: KeystoreContext, name: string): Promise<StoredKey> {
  const key = await ctx.storage.getKey(name);
  if (!key) throw notFound(name);
  if (key.deletedAt === null) throw new KeystoreError('ERR_KEYSTORE_NOT_DELETED', `key "${name}" is not deleted`);
  return key;
}
