import { sql } from 'drizzle-orm';

/*
 * One array parameter instead of a list of them (drizzle expands a JS array into one
 * placeholder per element): `= any(${uuidArray(ids)})` stays a single bind however many ids.
 * Only for values that need no quoting in an array literal — uuids, credit codes, rule ids.
 */
export const uuidArray = (list: readonly string[]) => sql`${`{${list.join(',')}}`}::uuid[]`;
export const textArray = (list: readonly string[]) => sql`${`{${list.join(',')}}`}::text[]`;
