/**
 * The RateLimit-Policy and RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-11), from
 * the limits a call was charged to (limits/call-limits.ts):
 *
 * - §3 RateLimit-Policy: a Structured Fields List (RFC 9651 §3.1) of quota policies, each an
 *   sf-string naming it with parameters `q` (the quota: calls per window) and `w` (the window,
 *   seconds) — e.g. `"user";q=100;w=60, "org-day";q=10000;w=86400`;
 * - §4 RateLimit: the service limit the client is nearest to, by the same name, with `r` (what is
 *   left) and `t` (seconds until it starts again) — e.g. `"user";r=0;t=12`. On a refusal it is the
 *   limit that refused.
 *
 * Policy names are our scopes (org, user, client, api-key, application, tool, org-day, org-month,
 * user-day, user-month): plain tokens, so they need no escaping inside the sf-string.
 */
import type { AppliedLimit } from '../limits/call-limits.ts';

const item = (name: string, params: Record<string, number>) =>
  `"${name}"${Object.entries(params).map(([key, value]) => `;${key}=${value}`).join('')}`;

export function rateLimitFields(limits: AppliedLimit[], refusedBy?: AppliedLimit): Record<string, string> {
  if (limits.length === 0) return {};
  const policies = new Map<string, string>();
  for (const limit of limits) {
    const text = item(limit.policy, { q: limit.quota, w: limit.window });
    policies.set(text, text);
  }
  const nearest = refusedBy ?? limits.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  return {
    'ratelimit-policy': [...policies.values()].join(', '),
    ratelimit: item(nearest.policy, { r: refusedBy ? 0 : nearest.remaining, t: nearest.reset }),
  };
}
