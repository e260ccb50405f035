/**
 * MCP Streamable HTTP uses POST (messages), GET (the session's stream) and DELETE (end the
 * session); OPTIONS, the CORS preflight, is answered before any step. Anything else is 405 with
 * `Allow` (RFC 9110 §15.5.6), before authentication.
 */
import { PortcullisError } from '../../core/errors.ts';
import type { GatewayRequest, StepResult } from '../context.ts';
import { refuse } from '../refusals.ts';

const ALLOWED = new Set(['POST', 'GET', 'DELETE']);

export function refuseOtherMethods(ctx: GatewayRequest): StepResult {
  if (ALLOWED.has(ctx.req.method ?? '')) return 'continue';
  return refuse(ctx, new PortcullisError('method_not_allowed', 'method not allowed', { rule: 'http-method' }), { headers: { allow: 'GET, POST, DELETE' } });
}
