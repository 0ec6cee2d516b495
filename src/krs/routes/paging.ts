import type { ListQuery } from './key-schemas.js';

/** Key Vault's default and largest page (`maxresults`). */
const PAGE = 25;

/** How a list is ordered: by id (key names), or by creation (versions, whose ids are random). */
export type ListOrder = 'by-id' | 'by-position';

/**
 * One page of a Key Vault list: `{value, nextLink}`. `$skiptoken` is the id of the last item of the previous
 * page, so concurrent creations shift nothing; `nextLink` is absolute and carries api-version, as Key Vault's
 * does (the SDK fetches it unchanged).
 */
export function pageOf<T, R>(items: readonly T[], idOf: (item: T) => string, map: (item: T) => R, query: ListQuery, listUrl: string, order: ListOrder): { value: R[]; nextLink: string | null } {
  const size = query.maxresults === undefined ? PAGE : Number(query.maxresults);
  const after = query.$skiptoken;
  const start = after === undefined ? 0 : order === 'by-id' ? items.findIndex((item) => idOf(item) > after) : positionAfter(items, idOf, after);
  const slice = start < 0 ? [] : items.slice(start, start + size);
  const last = slice[slice.length - 1];
  const more = start >= 0 && start + size < items.length && last !== undefined;
  const params = new URLSearchParams({ 'api-version': query['api-version'], maxresults: String(size) });
  if (more) params.set('$skiptoken', idOf(last));
  return { value: slice.map(map), nextLink: more ? `${listUrl}?${params.toString()}` : null };
}

function positionAfter<T>(items: readonly T[], idOf: (item: T) => string, after: string): number {
  const i = items.findIndex((item) => idOf(item) === after);
  return i < 0 ? -1 : i + 1;
}
