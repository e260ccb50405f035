/** Small address helpers shared by config validation, redirect-URI matching and outbound-fetch guards. */
import { BlockList, isIP } from 'node:net';

/** Strip the brackets URL puts around IPv6 hosts. */
export function bareHostname(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** Loopback in the sense of RFC 8252 §7.3 / §8.3: `localhost`, 127.0.0.0/8, or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = bareHostname(hostname).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

export function isLoopbackUrl(url: URL): boolean {
  return isLoopbackHost(url.hostname);
}

/** Loopback, private, link-local, shared and unspecified ranges (RFC 1918, RFC 6598, RFC 4193, RFC 4291). */
const PRIVATE = (() => {
  const list = new BlockList();
  for (const [net, bits] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) list.addSubnet(net, bits, 'ipv4');
  for (const [net, bits] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['::ffff:0:0', 96]] as const) list.addSubnet(net, bits, 'ipv6');
  return list;
})();

/**
 * A host this server should not be pointed at by someone who is not its administrator: `localhost`,
 * or a loopback, private, link-local, shared or unspecified address given literally. A public name
 * that resolves to such an address is not caught here (that needs the resolved address checked at
 * connection time).
 */
export function isInternalHost(hostname: string): boolean {
  const host = bareHostname(hostname).toLowerCase();
  const family = isIP(host);
  if (family === 0) return host === 'localhost' || host.endsWith('.localhost');
  return PRIVATE.check(host, family === 4 ? 'ipv4' : 'ipv6');
}
