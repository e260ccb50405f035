/**
 * The denial reference (`<base>/docs/denials`): a public page, no sign-in — the developers of MCP
 * clients land here from an OAuth error's `error_uri` (RFC 6749 §5.2) or a gateway error's
 * `data.help`, each pointing at one code's anchor. Drawn entirely from the reference table
 * (core/denial-reference.ts) and the renderers' own wire tables (http/refusal.ts, core/errors.ts),
 * so what the page says a client receives is what the server sends.
 */
import type { Hono } from 'hono';
import { DENIAL_REFERENCE, DENIAL_REFERENCE_PATH } from '../core/denial-reference.ts';
import { statusFor, type ErrorCode } from '../core/errors.ts';
import { oauthCode, rpcCode } from '../http/refusal.ts';
import { CHECK_STATUS } from '../shared/denials.ts';
import { html, page, type Html } from '../web/html.ts';
import type { WebDeps, WebEnv } from '../web/pages.ts';

/**
 * The gateway answers these with a Bearer challenge instead of a JSON-RPC error (RFC 6750 §3.1;
 * RFC 9470 §3 for a step-up; shared/challenge.ts), the finer code only in the audit record.
 */
const CHALLENGES: Partial<Record<ErrorCode, string>> = {
  invalid_token: 'WWW-Authenticate: Bearer error="invalid_token"',
  invalid_audience: 'WWW-Authenticate: Bearer error="invalid_token"',
  token_revoked: 'WWW-Authenticate: Bearer error="invalid_token"',
  insufficient_scope: 'WWW-Authenticate: Bearer error="insufficient_scope", scope="…"',
  step_up_required: 'WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age="…" (or insufficient_scope naming the step-up scope)',
};

/** What an MCP client sees from the gateway for `code`. */
function gatewayWire(code: ErrorCode): Html {
  const challenge = CHALLENGES[code];
  if (challenge) return html`<code>${challenge}</code>`;
  // Policy and limit refusals of a judged message come in a 200 per message (gateway/refusals.ts), with MCP's own codes.
  if (code === 'policy_denied') return html`JSON-RPC error <code>-32003</code>, <code>data.code</code> = <code>${code}</code>, <code>data.rule</code> names the rule`;
  if (code === 'rate_limited' || code === 'quota_exceeded') return html`JSON-RPC error <code>-32029</code>, <code>data.code</code> = <code>${code}</code>, <code>Retry-After</code>`;
  return html`JSON-RPC error <code>${String(rpcCode(code))}</code>, <code>data.code</code> = <code>${code}</code>`;
}

function entry(code: ErrorCode): Html {
  const { meaning, fix } = DENIAL_REFERENCE[code];
  return html`<section id="${code}" data-testid="denial-${code}" aria-labelledby="${code}-title">
<h3 id="${code}-title"><code>${code}</code></h3>
<p>${meaning}</p>
<dl>
<dt>HTTP status</dt><dd data-testid="status">${String(statusFor(code))}</dd>
<dt>OAuth endpoints</dt><dd><code>error</code> = <code data-testid="oauth">${oauthCode(code)}</code></dd>
<dt>MCP gateway</dt><dd>${gatewayWire(code)}</dd>
<dt>How to fix it</dt><dd>${fix}</dd>
</dl>
<p><a href="#top">Back to the list</a></p>
</section>`;
}

function index(codes: ErrorCode[]): Html {
  return html`<ul class="denial-index">${codes.map((code) => html`<li><a href="#${code}"><code>${code}</code></a></li>`)}</ul>`;
}

export function denialReferenceBody(): Html {
  const all = Object.keys(DENIAL_REFERENCE) as ErrorCode[];
  const checks = all.filter((code) => Object.hasOwn(CHECK_STATUS, code));
  const others = all.filter((code) => !Object.hasOwn(CHECK_STATUS, code));
  return html`<h1 id="top">Why a request was refused</h1>
<p>Every refusal from this server carries one of these codes: the gateway in <code>data.code</code> of a JSON-RPC error (with <code>data.help</code> linking here), the OAuth endpoints in <code>error_uri</code>.</p>
<h2>Token and policy checks</h2>${index(checks)}
<h2>Other requests</h2>${index(others)}
<h2>The codes</h2>
${all.map(entry)}`;
}

export function denialReferenceRoutes(app: Hono<WebEnv>, deps: WebDeps): void {
  const body = denialReferenceBody();
  app.get(DENIAL_REFERENCE_PATH, (c) => c.html(page({ title: 'Denial reference', base: deps.base, body, wide: true })));
}
