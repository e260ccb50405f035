/**
 * The signature on every audit webhook delivery, the way receivers check it (README "Audit
 * webhooks"): `Portcullis-Signature: t=<unix seconds>,v1=<hex>` where `v1` is
 * HMAC-SHA256(secret, `${t}.${body}`) over the raw body bytes as sent. The time inside the signed
 * text lets a receiver refuse a delivery replayed later (we suggest 5 minutes); each retry is
 * signed afresh.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Portcullis-Signature';

export function signatureOf(secret: string, body: string, t: number): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/** The header value for `body` sent at `t` (epoch seconds). */
export function signWebhook(secret: string, body: string, t: number): string {
  return `t=${t},v1=${signatureOf(secret, body, t)}`;
}

/** A receiver's check: the signature matches and `t` is within `toleranceSeconds` of `now`. */
export function verifyWebhook(secret: string, header: string, body: string, now: number, toleranceSeconds = 300): boolean {
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const given = Buffer.from(parts.get('v1') ?? '', 'hex');
  if (!Number.isInteger(t) || Math.abs(now - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signatureOf(secret, body, t), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
