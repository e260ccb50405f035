import { BlockList, isIP } from 'node:net';
import { ALLOW, deny, type Rule } from '../rule.ts';

const lists = new WeakMap<readonly string[], BlockList>();

/** node:net BlockList does the CIDR arithmetic for both families. */
function listFor(ranges: readonly string[]): BlockList {
  let list = lists.get(ranges);
  if (!list) {
    list = new BlockList();
    for (const range of ranges) {
      const [address, bits] = range.split('/');
      const family = isIP(address!) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) list.addAddress(address!, family);
      else list.addSubnet(address!, Number(bits), family);
    }
    lists.set(ranges, list);
  }
  return list;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is checked as 10.0.0.1. */
export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

export function ipAllowed(ranges: readonly string[], ip: string): boolean {
  const address = normalizeIp(ip);
  const family = isIP(address);
  if (family === 0) return false;
  return listFor(ranges).check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** Callers must come from the application's, and the tool's, allowed networks. */
export const ipAllow: Rule = ({ app, target, caller }) => {
  const appRanges = app.conditions.ipAllow;
  if (appRanges && !ipAllowed(appRanges, caller.ip)) return deny('policy_denied', 'ip-allow', { resource: `app:${app.slug}` });
  const toolRanges = target.method === 'tools/call' && target.name ? app.tools[target.name]?.ipAllow : undefined;
  if (toolRanges && !ipAllowed(toolRanges, caller.ip)) return deny('policy_denied', 'ip-allow', { resource: `tool:${target.name}` });
  return ALLOW;
};
