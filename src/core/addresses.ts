/**
 * Addresses and CIDR ranges (IPv4 and IPv6): the syntax an application's `ipAllow` accepts
 * (core/application.ts) and the matching its policy rule applies (policy/rules/ip-allow.ts).
 *
 * IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4
 * peer, RFC 4291 §2.5.5.2) are the same host as the IPv4 address: they match IPv4 ranges, and
 * IPv4 addresses match `::ffff:…/96+` ranges. A zone index (`fe80::1%eth0`) is ignored.
 * Not handled: other IPv4-embedding prefixes (NAT64 `64:ff9b::/96`, 6to4), which are different
 * hosts on the wire.
 *
 * Fails closed: an address that does not parse, or a list entry that does not (should the schema
 * ever let one through), matches nothing.
 */
import { BlockList, isIP } from 'node:net';

const lists = new WeakMap<readonly string[], BlockList>();

/** `10.0.0.0/8`, `2001:db8::/32`, `::ffff:10.0.0.0/104`, or a single address. */
export function parseCidr(range: string): { address: string; family: 'ipv4' | 'ipv6'; bits: number } | undefined {
  const slash = range.indexOf('/');
  const address = slash === -1 ? range : range.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const text = range.slice(slash + 1);
    if (!/^\d{1,3}$/.test(text)) return undefined;
    bits = Number(text);
    if (bits > max) return undefined;
  }
  return { address, family: version === 4 ? 'ipv4' : 'ipv6', bits };
}

export function isCidr(range: string): boolean {
  return parseCidr(range) !== undefined;
}

/** node:net BlockList does the CIDR arithmetic for both families, including IPv4-mapped IPv6. */
function listFor(ranges: readonly string[]): BlockList {
  let list = lists.get(ranges);
  if (!list) {
    list = new BlockList();
    for (const range of ranges) {
      const parsed = parseCidr(range);
      if (parsed) list.addSubnet(parsed.address, parsed.bits, parsed.family);
    }
    lists.set(ranges, list);
  }
  return list;
}

/** The address to match: without brackets or zone index; `::ffff:a.b.c.d` as a.b.c.d. */
export function normalizeIp(ip: string): string {
  let address = ip.trim();
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const zone = address.indexOf('%');
  if (zone !== -1) address = address.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped && isIP(mapped[1]!) === 4 ? mapped[1]! : address;
}

export function ipAllowed(ranges: readonly string[], ip: string): boolean {
  const address = normalizeIp(ip);
  const family = isIP(address);
  if (family === 0) return false;
  return listFor(ranges).check(address, family === 6 ? 'ipv6' : 'ipv4');
}
