/**
 * A POST's body, read up to the application's limit (413) and parsed (-32700; an empty batch is
 * -32600). Numbers a double cannot carry keep their source text (jsonrpc.ts parseBody), so the
 * upstream later reads the values the client sent.
 */
import { isPortcullisError, PortcullisError } from '../../core/errors.ts';
import { readBody } from '../../http/io.ts';
import type { AuthenticatedRequest, StepDeps, StepResult } from '../context.ts';
import { parseBody } from '../jsonrpc.ts';
import { refuse } from '../refusals.ts';

export async function readAndParse(ctx: AuthenticatedRequest, deps: StepDeps): Promise<StepResult> {
  let body: Buffer;
  try {
    body = await readBody(ctx.req, deps.maxBodyBytes);
  } catch (err) {
    if (isPortcullisError(err) && err.code === 'payload_too_large') return refuse(ctx, err);
    throw err;
  }
  const parsed = parseBody(body.toString('utf8'));
  if (!parsed) return refuse(ctx, new PortcullisError('invalid_request', 'Parse error', { rule: 'parse' }));
  if (parsed.messages.length === 0) return refuse(ctx, new PortcullisError('invalid_request', 'empty batch', { rule: 'empty-batch' }));
  ctx.messages = parsed.messages;
  ctx.batch = parsed.batch;
  return 'continue';
}
