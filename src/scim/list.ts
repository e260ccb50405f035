/** A list request (RFC 7644 §3.4.2): filter, then the 1-based page `startIndex`/`count`. */
import { listResponse, MAX_PAGE } from './schema.ts';
import { badRequest } from './errors.ts';
import { matches, parseFilter } from './filter.ts';

export interface ListQuery {
  filter?: string;
  startIndex?: string;
  count?: string;
}

function integer(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^-?\d{1,9}$/.test(text)) throw badRequest('invalidValue', `${name} is an integer`);
  return Number(text);
}

/** §3.4.2.4: startIndex below 1 is 1; count below 0 is 0; count above the cap is the cap. */
export function page(resources: Record<string, unknown>[], query: ListQuery) {
  const filter = query.filter === undefined || query.filter.trim() === '' ? undefined : parseFilter(query.filter);
  const found = filter ? resources.filter((r) => matches(filter, r)) : resources;
  const startIndex = Math.max(1, integer(query.startIndex, 'startIndex') ?? 1);
  const count = Math.min(MAX_PAGE, Math.max(0, integer(query.count, 'count') ?? MAX_PAGE));
  return listResponse(found.slice(startIndex - 1, startIndex - 1 + count), found.length, startIndex);
}
