/**
 * Checking JSON input against a zod schema the way every identity service and admin route
 * reports it: 400 `invalid_request` with `errors: [{path, message}]`, one entry per offending
 * field — an unknown key is named by its own path (`settings.colour`), not by the object holding it.
 */
import type * as z from 'zod';
import { AdminError } from '../admin-api/errors.ts';

export interface FieldProblem {
  path: string;
  message: string;
}

/** zod issues as field errors, one per unknown key (admin/applications.ts reports its definitions the same way). */
export function fieldErrors(error: z.ZodError): FieldProblem[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: [...at, key].join('.'), message: 'unknown field' }));
    return [{ path: at.join('.') || '(root)', message: issue.message }];
  });
}

/** Parse with a schema, or 400 invalid_request listing every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new AdminError('invalid_request', 'invalid input', { errors: fieldErrors(result.error) });
  return result.data;
}
