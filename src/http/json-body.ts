/** Reading a JSON request body for the admin API (its size is bounded by api.ts's bodyLimit). */
import { PortcullisError } from '../core/errors.ts';

/** The JSON body; `{}` for an empty optional body. 415 unless application/json, 400 when not JSON. */
export async function readJson(c: { req: { header(name: string): string | undefined; text(): Promise<string> } }, required: boolean): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  const text = await c.req.text();
  if (!text && !required) return {};
  if (!/^application\/json\b/i.test(type)) throw new PortcullisError('unsupported_media_type', 'send application/json');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PortcullisError('invalid_request', 'the body is not valid JSON', { detail: { errors: [{ path: '(root)', message: 'not valid JSON' }] } });
  }
}
