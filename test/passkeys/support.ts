/**
 * Driving the passkey boxes without a browser: read a box's endpoints and token from the page,
 * ask for the ceremony's options, let the software authenticator answer (or lie), post the answer
 * — what console/assets/passkeys.js does in a browser.
 */
import assert from 'node:assert/strict';
import type { PageResponse, UserAgent } from '../helpers/user-agent.ts';
import type { SoftAuthenticator, Tamper } from './authenticator.ts';

export interface PasskeyBox {
  kind: 'authenticate' | 'register';
  options: string;
  action: string;
  fields: Record<string, string>;
}

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The passkey box of a page (the first, or the one whose action ends with `action`). */
export function passkeyBox(page: PageResponse, action?: string): PasskeyBox {
  for (const match of page.body.matchAll(/<div class="passkey"([^>]*)>/g)) {
    const attr = (name: string) => {
      const found = new RegExp(`${name}="([^"]*)"`).exec(match[1]!)?.[1];
      return found === undefined ? undefined : decode(found);
    };
    if (action && !attr('data-action')!.endsWith(action)) continue;
    const fields: Record<string, string> = { csrf: attr('data-csrf') ?? '' };
    if (attr('data-next') !== undefined) fields.next = attr('data-next')!;
    if (attr('data-resume')) fields.resume = attr('data-resume')!;
    return { kind: attr('data-passkey') as PasskeyBox['kind'], options: new URL(attr('data-options')!, page.url).href, action: new URL(attr('data-action')!, page.url).href, fields };
  }
  throw new Error(`no passkey box${action ? ` for ${action}` : ''} on ${page.url}:\n${page.body.slice(0, 1500)}`);
}

export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** POST JSON as the page script does (same-origin fetch: Origin header, the browser's cookies). */
export async function postJson(ua: UserAgent, url: string, body: unknown, origin = new URL(url).origin): Promise<JsonAnswer> {
  const answer = await ua.request(url, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify(body) });
  return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> };
}

/** The options of a box's ceremony (asserting they were given). */
export async function ceremonyOptions(ua: UserAgent, box: PasskeyBox, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const answer = await postJson(ua, box.options, { ...box.fields, ...extra });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.options as Record<string, unknown>;
}

/** A whole ceremony: options, the authenticator's answer (maybe tampered with), the server's answer. */
export async function ceremony(ua: UserAgent, box: PasskeyBox, authenticator: SoftAuthenticator, tamper: Tamper = {}, extra: Record<string, string> = {}): Promise<JsonAnswer & { response: Record<string, unknown> }> {
  const options = await ceremonyOptions(ua, box, extra);
  const response = box.kind === 'register' ? authenticator.register(options as never, tamper) : authenticator.assert(options as never, tamper);
  const answer = await postJson(ua, box.action, { ...box.fields, ...extra, response });
  return { ...answer, response };
}
