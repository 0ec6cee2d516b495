import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type DeletedKeyInfo, type Keystore, toDeletedKeyBundle, toKeyBundle, toKeyItem } from '../../../keys/keystore/index.js';
import { principalOf } from '../key-api.js';
import { type ListQuery, listQuery, nameParams } from './key-schemas.js';
import { pageOf } from './paging.js';

export interface DeletedKeyRouteOptions {
  readonly keystore: Keystore;
  readonly baseUrl: () => string;
}

type Req = FastifyRequest<{ Params: { name: string }; Querystring: ListQuery }>;

const admin = { krsRole: 'keys.admin', keyVaultApi: true } as const;

/**
 * Key Vault's soft-delete paths, as the SDK's delete and recover pollers use them: get a deleted key (the
 * delete poller waits for it), list, purge (204) and recover.
 */
export async function deletedKeyRoutes(app: FastifyInstance, options: DeletedKeyRouteOptions): Promise<void> {
  const { keystore } = options;
  const base = (): string => options.baseUrl();
  const noStore = (reply: FastifyReply): void => void reply.header('cache-control', 'no-store');

  app.get('/deletedkeys', { schema: { summary: 'List soft-deleted keys', querystring: listQuery }, config: admin }, async (request: Req, reply) => {
    noStore(reply);
    const deleted = await keystore.listDeleted();
    return pageOf(deleted, (d) => d.key.name, (d) => deletedItem(d, base()), request.query, `${base()}/deletedkeys`, 'by-id');
  });

  app.get('/deletedkeys/:name', { schema: { summary: 'A soft-deleted key', params: nameParams }, config: admin }, async (request: Req, reply) => {
    noStore(reply);
    return toDeletedKeyBundle(await keystore.getDeleted(request.params.name), base());
  });

  app.delete('/deletedkeys/:name', { schema: { summary: 'Purge a soft-deleted key for good', params: nameParams }, config: admin }, async (request: Req, reply) => {
    await keystore.purge(request.params.name, { actor: principalOf(request).subject });
    return reply.code(204).header('cache-control', 'no-store').send();
  });

  app.post('/deletedkeys/:name/recover', { schema: { summary: 'Recover a soft-deleted key', params: nameParams }, config: admin }, async (request: Req, reply) => {
    noStore(reply);
    await keystore.recover(request.params.name, { actor: principalOf(request).subject });
    return toKeyBundle(await keystore.get(request.params.name), base());
  });
}

/** Key Vault's DeletedKeyItem: a KeyItem with its recovery id and dates. */
function deletedItem(d: DeletedKeyInfo, base: string): Record<string, unknown> {
  return { ...toKeyItem(d.key, base), recoveryId: `${base}/deletedkeys/${d.key.name}`, deletedDate: d.deletedDate, scheduledPurgeDate: d.scheduledPurgeDate };
}
