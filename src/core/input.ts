/**
 * Checking input against a zod schema the way every service, admin route and the configuration
 * report it: one field error `{path, message}` per offending field — an unknown key is named by
 * its own path (`settings.colour`), not by the object holding it. Services answer 400
 * `invalid_request` with `errors: [...]`; the configuration check prints them.
 */
import type * as z from 'zod';
import { PortcullisError, type FieldError } from './errors.ts';

/** zod issues as field errors, one per unknown key; `unknown` is what an unknown key is called. */
export function fieldErrors(error: z.ZodError, unknown = 'unknown field'): FieldError[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...at, key].join('.'), message: unknown }));
    return [{ path: at.join('.') || '(root)', message: issue.message }];
  });
}

/** Parse with a schema, or 400 invalid_request listing every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new PortcullisError('invalid_request', 'invalid input', { detail: { errors: fieldErrors(result.error) } });
  return result.data;
}
