import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Keystore, toDeletedKeyBundle, toKeyBundle, toKeyItem, toKeyVersionItem } from '../../../keys/keystore/index.js';
import { principalOf } from '../key-api.js';
import { toCreateInput, toImportInput, toKeyUpdate } from '../key-requests.js';
import { type CreateKeyBody, type ImportKeyBody, type ListQuery, type UpdateKeyBody, createKeyBody, importKeyBody, listQuery, nameParams, updateKeyBody, versionParams } from './key-schemas.js';
import { pageOf } from './paging.js';

export interface KeyRouteOptions {
  readonly keystore: Keystore;
  /** The vault URL in key identifiers and nextLinks (the KRS issuer). */
  readonly baseUrl: () => string;
}

type Params = { name: string; version?: string };
type Req<B = unknown, Q = ListQuery> = FastifyRequest<{ Params: Params; Body: B; Querystring: Q }>;

const admin = { krsRole: 'keys.admin', keyVaultApi: true } as const;

/**
 * Key Vault's key administration on its paths and shapes: create, import, get (public part only), list, list
 * versions, update, rotate, delete. The SDK asks for the current version as `/keys/{name}/` (an empty
 * version segment), so every versionless path is also served with a trailing slash.
 */
export async function keyRoutes(app: FastifyInstance, options: KeyRouteOptions): Promise<void> {
  const { keystore } = options;
  const base = (): string => options.baseUrl();
  const who = (request: FastifyRequest): { actor: string } => ({ actor: principalOf(request).subject });
  const noStore = (reply: FastifyReply): void => void reply.header('cache-control', 'no-store');

  app.post('/keys/:name/create', { schema: { summary: 'Create a key, or a new version of it', params: nameParams, body: createKeyBody }, config: admin }, async (request: Req<CreateKeyBody>, reply) => {
    noStore(reply);
    return toKeyBundle(await keystore.create(request.params.name, toCreateInput(request.body), who(request)), base());
  });

  // Import: the material arrives in the body; it is never logged (the body is not) and is wiped once sealed.
  app.put('/keys/:name', { schema: { summary: "Import a key (an oct key's bytes or an RSA private key), or a new version of it", params: nameParams, body: importKeyBody }, config: admin }, async (request: Req<ImportKeyBody>, reply) => {
    noStore(reply);
    return toKeyBundle(await keystore.import(request.params.name, toImportInput(request.body), who(request)), base());
  });

  const get = async (request: Req, reply: FastifyReply): Promise<unknown> => {
    noStore(reply);
    return toKeyBundle(await keystore.get(request.params.name, request.params.version), base());
  };
  const getSchema = { summary: 'A key version: public part, attributes, release policy' };
  app.get('/keys/:name', { schema: { ...getSchema, params: nameParams }, config: admin }, get);
  app.get('/keys/:name/', { schema: { ...getSchema, params: nameParams, hide: true }, config: admin }, get);
  app.get('/keys/:name/:version', { schema: { ...getSchema, params: versionParams }, config: admin }, get);

  app.get('/keys', { schema: { summary: 'List keys (current versions), paged as Key Vault pages', querystring: listQuery }, config: admin }, async (request: Req, reply) => {
    noStore(reply);
    const keys = await keystore.list();
    return pageOf(keys, (k) => k.name, (k) => toKeyItem(k, base()), request.query, `${base()}/keys`, 'by-id');
  });

  app.get('/keys/:name/versions', { schema: { summary: 'List the versions of a key, oldest first', params: nameParams, querystring: listQuery }, config: admin }, async (request: Req, reply) => {
    noStore(reply);
    const versions = await keystore.listVersions(request.params.name);
    return pageOf(versions, (v) => v.version, (v) => toKeyVersionItem(v, base()), request.query, `${base()}/keys/${request.params.name}/versions`, 'by-position');
  });

  const update = async (request: Req<UpdateKeyBody>, reply: FastifyReply): Promise<unknown> => {
    noStore(reply);
    const version = request.params.version;
    const patch = toKeyUpdate(request.body ?? {}, version);
    return toKeyBundle(await keystore.update(request.params.name, patch, { ...who(request), ...(version === undefined ? {} : { version }) }), base());
  };
  const updateSchema = { summary: 'Update enabled or the release policy (refused when immutable: AKV.SKR.1020)', body: updateKeyBody };
  app.patch('/keys/:name', { schema: { ...updateSchema, params: nameParams }, config: admin }, update);
  app.patch('/keys/:name/', { schema: { ...updateSchema, params: nameParams, hide: true }, config: admin }, update);
  app.patch('/keys/:name/:version', { schema: { ...updateSchema, params: versionParams }, config: admin }, update);

  app.post('/keys/:name/rotate', { schema: { summary: 'A new version with the same type, size, operations and policy', params: nameParams }, config: admin }, async (request: Req, reply) => {
    noStore(reply);
    return toKeyBundle(await keystore.rotate(request.params.name, who(request)), base());
  });

  app.delete('/keys/:name', { schema: { summary: 'Soft-delete a key (all versions); recoverable until purged', params: nameParams }, config: admin }, async (request: Req, reply) => {
    noStore(reply);
    return toDeletedKeyBundle(await keystore.delete(request.params.name, who(request)), base());
  });
}
