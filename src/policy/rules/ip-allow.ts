/**
 * IP allow-lists, per application and per tool: a caller must come from one of the listed
 * addresses or CIDR ranges (IPv4 and IPv6, matched as core/addresses.ts describes). The caller's
 * address is the socket peer, or the X-Forwarded-For hop appended by a trusted proxy (http/io.ts
 * requestIp; only with `trustProxy`). Fails closed: an address that does not parse matches nothing.
 */
import { ipAllowed } from '../../core/addresses.ts';
import { ALLOW, deny, toolRule, type Rule } from '../rule.ts';

/** Callers must come from the application's, and the tool's, allowed networks. */
export const ipAllow: Rule = ({ app, target, caller }) => {
  const appRanges = app.conditions.ipAllow;
  if (appRanges && !ipAllowed(appRanges, caller.ip)) return deny('policy_denied', 'ip-allow', { resource: `app:${app.slug}` });
  const toolRanges = target.method === 'tools/call' && target.name ? toolRule(app, target.name)?.ipAllow : undefined;
  if (toolRanges && !ipAllowed(toolRanges, caller.ip)) return deny('policy_denied', 'ip-allow', { resource: `tool:${target.name}` });
  return ALLOW;
};
