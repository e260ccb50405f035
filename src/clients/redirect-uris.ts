/**
 * Which redirect URIs a client may register (OAuth 2.1 §2.3.1, RFC 8252 §7): https; http only on
 * loopback (any port matches there: RFC 8252 §7.3); a reverse-domain private-use scheme for native
 * apps (RFC 8252 §7.1); never a fragment (RFC 6749 §3.1.2) nor a scheme that runs code.
 */
const LOOPBACK_REDIRECT = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?([/?][^#]*)?$/;

/** `http://127.0.0.1:54321/cb` → `http://127.0.0.1/cb`; undefined for anything not a loopback http URI. */
export function withoutLoopbackPort(uri: string): string | undefined {
  const match = LOOPBACK_REDIRECT.exec(uri);
  return match ? `http://${match[1]}${match[2] ?? ''}` : undefined;
}

/** Non-loopback http redirect URIs are refused (OAuth 2.1 §2.3.1: only loopback may use http). */
export function insecureRedirectUri(uris: readonly string[]): string | undefined {
  return uris.find((uri) => {
    const parsed = URL.parse(uri);
    return parsed?.protocol === 'http:' && withoutLoopbackPort(uri) === undefined;
  });
}

const CODE_SCHEMES = ['javascript:', 'data:', 'file:', 'vbscript:'];

/** What is wrong with one redirect URI, or undefined. */
export function redirectUriProblem(uri: string): string | undefined {
  const url = URL.parse(uri);
  if (!url) return `not an absolute URI: ${uri}`;
  if (uri.includes('#')) return `must not contain a fragment: ${uri}`;
  if (url.protocol === 'http:') return insecureRedirectUri([uri]) ? `must use https unless the host is loopback (localhost, 127.0.0.1, [::1]): ${uri}` : undefined;
  if (url.protocol === 'https:') return undefined;
  if (CODE_SCHEMES.includes(url.protocol) || !url.protocol.slice(0, -1).includes('.')) {
    return `must use https, loopback http, or a reverse-domain private-use scheme (RFC 8252 §7.1): ${uri}`;
  }
  return undefined;
}

/** Whether any URI is a native app's private-use scheme (the client is then `application_type: native`). */
export function hasNativeScheme(uris: readonly string[]): boolean {
  return uris.some((uri) => !/^https?:/.test(uri));
}
