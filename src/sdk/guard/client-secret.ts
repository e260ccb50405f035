/**
 * HTTP Basic authentication of the guard's own client (a registered resource server) at the
 * introspection endpoint and the revocation stream. RFC 6749 §2.3.1: the client id and secret are
 * each form-encoded (application/x-www-form-urlencoded, so a space is `+`) before they are joined
 * with `:` and base64-encoded — a secret with `:` or `%` in it must still arrive intact.
 */
const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
}
