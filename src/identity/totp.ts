/**
 * The TOTP second factor (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps — what every
 * authenticator app accepts) and its one-time recovery codes.
 *
 * - The secret is sealed under the data key with a context naming the user (core/crypto.ts seal),
 *   so a database alone does not reveal it and a sealed secret cannot be moved to another account.
 * - A factor counts only once confirmed with a code, so a mistyped enrolment never locks anyone out.
 * - A code is accepted for the step before or after the current one (RFC 6238 §5.2, clock drift),
 *   and never twice: the store keeps the newest accepted step and takes a code only for a later one.
 * - Recovery codes carry 50 random bits each; only their keyed hash (pepper) is kept, and each is
 *   used once (one conditional UPDATE).
 */
import { Secret, TOTP } from 'otpauth';
import { randomInt } from 'node:crypto';
import { keyedHash, open, seal, type SecretKey } from '../core/crypto.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';

export const TOTP_PERIOD = 30;
const TOTP_DIGITS = 6;
export const RECOVERY_CODE_COUNT = 10;

export interface MfaDeps {
  store: Pick<Store, 'mfa' | 'orgs'>;
  /** Seals TOTP secrets. */
  dataKey: SecretKey;
  /** Keys recovery-code hashes. */
  pepper: SecretKey;
  now: () => number;
}

/** What a typed second-factor code turned out to be. */
export type SecondFactorCheck = 'totp' | 'recovery' | 'wrong' | 'reused';

const sealContext = (userId: string) => `mfa-totp:${userId}`;

function totpFor(secret: string, label = '', issuer = 'Portcullis'): TOTP {
  return new TOTP({ issuer, label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD });
}

/** The `otpauth://totp/…` URI authenticator apps read from the QR code. */
export function otpauthUri(secret: string, account: string, issuer: string): string {
  return totpFor(secret, account, issuer).toString();
}

/** The time step `code` is right for at `now` (the current one ± 1), or undefined. */
export function codeStep(secret: string, code: string, now: number): number | undefined {
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code)) return undefined;
  const delta = totpFor(secret).validate({ token: code, timestamp: now * 1000, window: 1 });
  return delta === null ? undefined : Math.floor(now / TOTP_PERIOD) + delta;
}

/** Does the person have a confirmed authenticator? */
export async function hasTotp(deps: Pick<MfaDeps, 'store'>, userId: string): Promise<boolean> {
  const factor = await deps.store.mfa.findTotp(userId);
  return factor?.confirmedAt != null;
}

/** Does an organization the person belongs to require a second factor? */
export async function mfaRequired(deps: Pick<MfaDeps, 'store'>, userId: string): Promise<boolean> {
  const orgs = await deps.store.orgs.forUser(userId);
  return orgs.some((org) => org.settings.requireMfa === true);
}

/** A new secret for an enrolment (replacing an unconfirmed one); undefined when one is confirmed already. */
export async function beginTotpEnrolment(deps: MfaDeps, user: User): Promise<string | undefined> {
  const secret = new Secret({ size: 20 }).base32;
  const stored = await deps.store.mfa.putPendingTotp(user.id, seal(deps.dataKey, secret, sealContext(user.id)), deps.now());
  return stored ? secret : undefined;
}

/** The secret of the enrolment under way (to show it again), if any. */
export async function pendingTotpSecret(deps: MfaDeps, userId: string): Promise<string | undefined> {
  const factor = await deps.store.mfa.findTotp(userId);
  if (!factor || factor.confirmedAt !== null) return undefined;
  return open(deps.dataKey, factor.secretSealed, sealContext(userId));
}

/** Confirm the enrolment with a code from the app: the recovery codes (shown once), or 'wrong'. */
export async function confirmTotpEnrolment(deps: MfaDeps, userId: string, code: string): Promise<string[] | 'wrong'> {
  const secret = await pendingTotpSecret(deps, userId);
  const step = secret === undefined ? undefined : codeStep(secret, code.trim(), deps.now());
  if (step === undefined || !(await deps.store.mfa.confirmTotp(userId, step, deps.now()))) return 'wrong';
  return newRecoveryCodes(deps, userId);
}

/** Check a code typed at sign-in (or to disable the factor): a TOTP code or an unused recovery code. */
export async function checkSecondFactor(deps: MfaDeps, userId: string, typed: string): Promise<SecondFactorCheck> {
  const factor = await deps.store.mfa.findTotp(userId);
  if (!factor || factor.confirmedAt === null) return 'wrong';
  const code = typed.replace(/\s+/g, '');
  if (/^\d+$/.test(code)) {
    const step = codeStep(open(deps.dataKey, factor.secretSealed, sealContext(userId)), code, deps.now());
    if (step === undefined) return 'wrong';
    return (await deps.store.mfa.useTotpStep(userId, step)) ? 'totp' : 'reused';
  }
  const normalized = normalizeRecoveryCode(code);
  if (!normalized) return 'wrong';
  return (await deps.store.mfa.useRecoveryCode(userId, recoveryHash(deps.pepper, userId, normalized), deps.now())) ? 'recovery' : 'wrong';
}

/** Replace the recovery codes with ten new ones; the codes are returned once, only their hashes kept. */
export async function newRecoveryCodes(deps: MfaDeps, userId: string): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const raw = randomBytesBase32(10);
    return `${raw.slice(0, 5)}-${raw.slice(5)}`;
  });
  await deps.store.mfa.replaceRecoveryCodes(userId, codes.map((code) => recoveryHash(deps.pepper, userId, normalizeRecoveryCode(code)!)), deps.now());
  return codes;
}

export async function disableTotp(deps: Pick<MfaDeps, 'store'>, userId: string): Promise<void> {
  await deps.store.mfa.deleteTotp(userId);
}

/** Recovery codes are typed by hand: case and dashes do not matter. */
function normalizeRecoveryCode(code: string): string | undefined {
  const plain = code.toLowerCase().replace(/[-\s]/g, '');
  return /^[a-z2-7]{10}$/.test(plain) ? plain : undefined;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** `length` uniformly random base32 letters (5 bits each). */
function randomBytesBase32(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE32[randomInt(32)];
  return out;
}

function recoveryHash(pepper: SecretKey, userId: string, normalized: string): string {
  return keyedHash(pepper, `mfa-recovery:${userId}:${normalized}`);
}
