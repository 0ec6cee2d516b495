import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUDIT_KINDS, type AuditEntry, type AuditKind, type AuditLog, type AuditQuery } from '../../../keys/audit/index.js';
import { KrsError } from '../errors.js';

export interface AuditRouteOptions {
  readonly audit: AuditLog;
}

interface AuditQueryString {
  key?: string;
  version?: string;
  kind?: string;
  since?: string;
  until?: string;
  limit?: string;
  after?: string;
  last?: string;
}

const auditor = { krsRole: 'audit.read' } as const;
const querySchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(['key', 'version', 'kind', 'since', 'until', 'limit', 'after', 'last'].map((k) => [k, { type: 'string', maxLength: 300 }])),
} as const;

/**
 * The audit log for auditors (role audit.read): `GET /audit` filtered by key, version, kinds and a time range,
 * paged forward with `after` (or the last N entries with `last`), and the latest signed checkpoint.
 */
export async function auditRoutes(app: FastifyInstance, options: AuditRouteOptions): Promise<void> {
  app.get('/audit', { schema: { summary: 'Audit entries: ?key=&version=&kind=a,b&since=&until=&limit=&after= or ?last=N', querystring: querySchema }, config: auditor }, async (request: FastifyRequest<{ Querystring: AuditQueryString }>, reply: FastifyReply) => {
    void reply.header('cache-control', 'no-store');
    const q = request.query;
    if (q.last !== undefined) {
      if (Object.keys(q).length > 1) throw new KrsError('ERR_AUDIT_QUERY', 'last cannot be combined with other filters');
      return { value: await options.audit.tail(count(q.last, 'last')), nextLink: null };
    }
    const query = toQuery(q);
    const value = await options.audit.query(query);
    return { value, nextLink: nextLink(request.url, value, query.limit ?? 100) };
  });
  app.get('/audit/checkpoints/latest', { schema: { summary: 'The latest signed audit checkpoint {seq, hash, time, keyId, signature}' }, config: auditor }, async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    const latest = (await options.audit.checkpoints()).at(-1);
    if (!latest) throw new KrsError('ERR_NO_CHECKPOINT');
    return latest;
  });
}

function toQuery(q: AuditQueryString): AuditQuery {
  const kinds = q.kind?.split(',').map((k) => k.trim());
  if (kinds?.some((k) => !(AUDIT_KINDS as readonly string[]).includes(k))) throw new KrsError('ERR_AUDIT_QUERY', `kind must be among ${AUDIT_KINDS.join(', ')}`);
  if (q.key !== undefined && !/^[0-9A-Za-z-]{1,127}$/.test(q.key)) throw new KrsError('ERR_AUDIT_QUERY', 'key is not a key name');
  return {
    ...(q.key === undefined ? {} : { name: q.key }),
    ...(q.version === undefined ? {} : { version: q.version.toLowerCase() }),
    ...(kinds === undefined ? {} : { kinds: kinds as AuditKind[] }),
    ...(q.since === undefined ? {} : { since: time(q.since, 'since') }),
    ...(q.until === undefined ? {} : { until: time(q.until, 'until') }),
    ...(q.after === undefined ? {} : { afterSeq: count(q.after, 'after', 0, Number.MAX_SAFE_INTEGER) }),
    limit: q.limit === undefined ? 100 : count(q.limit, 'limit'),
  };
}

function time(value: string, name: string): Date {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) throw new KrsError('ERR_AUDIT_QUERY', `${name} is not an ISO 8601 time`);
  return d;
}

function count(value: string, name: string, min = 1, max = 1000): number {
  const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new KrsError('ERR_AUDIT_QUERY', `${name} must be an integer in ${min}..${max}`);
  return n;
}

/** A full page may have more after it: the same query from its last seq (a relative URL). */
function nextLink(url: string, page: readonly AuditEntry[], limit: number): string | null {
  const last = page.at(-1);
  if (!last || page.length < limit) return null;
  const u = new URL(url, 'http://krs.invalid');
  u.searchParams.set('after', String(last.seq));
  return `${u.pathname}?${u.searchParams.toString()}`;
}
