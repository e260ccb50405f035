/** Small address helpers shared by config validation, redirect-URI matching and outbound-fetch guards. */
import { isIP } from 'node:net';

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
