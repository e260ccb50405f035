/**
 * Passkeys (WebAuthn Level 3, through @simplewebauthn/server): registering one, and proving one —
 * as the second factor after a password, or alone for a sign-in without a password.
 *
 * - The relying party is this server: RP ID = the hostname of `publicUrl`, expected origin = its
 *   origin (WebAuthn §5.1.3 / §7.2 steps 9 and 15). A response made for another site is refused.
 * - Every ceremony's challenge is random (the library's 32 bytes), kept one-time in the store for
 *   five minutes with what it is for (purpose, person, browser): a response is checked only
 *   against the challenge it carries, once — replaying it finds nothing (§13.4.3).
 * - Registration asks for a discoverable credential with user verification (a passkey, not a bare
 *   security key), so the same credential can sign in without a password; attestation "none"
 *   (we trust no authenticator model, so asking for attestation would only cost privacy, §14.4.1).
 * - Without a password, the authenticator must have verified the person (UV flag, §7.2 step 17)
 *   and the user handle it returns must be the credential owner's (§7.2 step 6).
 * - The signature counter must move forward (§7.2 step 22): a counter going backwards means a
 *   cloned authenticator, and that assertion is refused. The check is the store's conditional
 *   UPDATE, so two concurrent uses of the same assertion have one winner.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import * as z from 'zod';
import { constantTimeEqual, keyedHash, type SecretKey } from '../core/crypto.ts';
import type { PasskeyCredential } from '../store/passkeys.ts';
import type { Store } from '../store/store.ts';
import type { User } from '../store/users.ts';

export interface PasskeyDeps {
  store: Pick<Store, 'passkeys' | 'oneTime' | 'users'>;
  config: { publicUrl: string };
  /** Keys the challenges' store keys. */
  pepper: SecretKey;
  now: () => number;
}

/** What a challenge was issued for: it answers nothing else. */
export type CeremonyPurpose = 'register' | 'second-factor' | 'sign-in';

/** Why a passkey response was refused (audit reasons; the person sees one message). */
export type PasskeyRefusal =
  | 'malformed'
  | 'challenge_unknown'
  | 'challenge_mismatch'
  | 'unknown_credential'
  | 'not_yours'
  | 'user_verification_missing'
  | 'invalid'
  | 'counter_regression'
  | 'already_registered';

export type AssertionCheck = { kind: 'ok'; user: User; credential: PasskeyCredential } | { kind: 'refused'; reason: PasskeyRefusal; userId?: string };
export type RegistrationCheck = { kind: 'ok'; credential: PasskeyCredential } | { kind: 'refused'; reason: PasskeyRefusal };

/**
 * `amr` of a sign-in with a passkey alone (RFC 8176 §2): hwk — possession of the key held by the
 * authenticator; user — the authenticator tested for the person (WebAuthn user verification: a PIN
 * or a biometric on the device, which of them it does not tell us); mfa — possession and
 * verification on the device are two factors (NIST SP 800-63B §5.1.9, multi-factor cryptographic
 * authenticator), so this counts as MFA like a password with a second factor.
 */
export const AMR_PASSKEY = ['hwk', 'user', 'mfa'];

const CHALLENGE_KIND = 'passkey-challenge';
const CHALLENGE_TTL = 300;
/** How long the browser waits for the authenticator (ms, §5.4 timeout); the challenge outlives it. */
const CEREMONY_TIMEOUT_MS = 180_000;
const MAX_NAME = 60;
/**
 * COSE algorithms we take (RFC 9053 / IANA COSE registry): EdDSA, ES256, RS256 — what every
 * authenticator offers. Named here rather than the library's default, which probes the runtime for
 * post-quantum algorithms and makes Node print an "experimental" warning on the first ceremony.
 */
const ALGORITHMS = [-8, -7, -257];

interface Challenge {
  purpose: CeremonyPurpose;
  /** The person the ceremony is for (registration, second factor); none for a sign-in. */
  userId?: string;
  /** An opaque binding to the browser that asked (the caller's keyed hash of a cookie). */
  browser: string;
}

/** This server as a WebAuthn relying party: RP ID and the origin responses must come from. */
export function relyingParty(deps: Pick<PasskeyDeps, 'config'>): { id: string; origin: string } {
  const url = new URL(deps.config.publicUrl);
  return { id: url.hostname, origin: url.origin };
}

/** The user handle of a person (§14.6.1: no personal data — our opaque user id). */
export function userHandle(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}

export async function hasPasskey(deps: Pick<PasskeyDeps, 'store'>, userId: string): Promise<boolean> {
  return (await deps.store.passkeys.forUser(userId)).length > 0;
}

/** A name the person typed for a passkey, tidied (or a default). */
export function passkeyName(typed: string): string {
  const name = typed.replace(/\s+/g, ' ').trim().slice(0, MAX_NAME);
  return name || 'Passkey';
}

const challengeKey = (deps: Pick<PasskeyDeps, 'pepper'>, challenge: string) => keyedHash(deps.pepper, `passkey-challenge:${challenge}`);

async function keepChallenge(deps: PasskeyDeps, challenge: string, value: Challenge): Promise<void> {
  await deps.store.oneTime.put(CHALLENGE_KIND, challengeKey(deps, challenge), JSON.stringify(value), deps.now() + CHALLENGE_TTL);
}

/**
 * The challenge a response carries in its client data, taken (once), and checked to be for this
 * purpose, person and browser; else why not.
 */
async function takeChallenge(deps: PasskeyDeps, clientDataJSON: string, expected: Challenge): Promise<{ challenge: string } | { refused: PasskeyRefusal }> {
  let challenge: unknown;
  try {
    challenge = (JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as { challenge?: unknown }).challenge;
  } catch {
    return { refused: 'malformed' };
  }
  if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > 200) return { refused: 'malformed' };
  const stored = await deps.store.oneTime.consume(CHALLENGE_KIND, challengeKey(deps, challenge), deps.now());
  if (stored === undefined) return { refused: 'challenge_unknown' };
  const issued = JSON.parse(stored) as Challenge;
  const same = issued.purpose === expected.purpose && issued.userId === expected.userId && constantTimeEqual(issued.browser, expected.browser);
  return same ? { challenge } : { refused: 'challenge_mismatch' };
}

/** Options for registering a new passkey for `user` (navigator.credentials.create, §5.4). */
export async function registrationOptions(deps: PasskeyDeps, user: User, browser: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rp = relyingParty(deps);
  const existing = await deps.store.passkeys.forUser(user.id);
  const options = await generateRegistrationOptions({
    rpName: 'Portcullis',
    rpID: rp.id,
    userName: user.email,
    userID: new Uint8Array(Buffer.from(user.id, 'utf8')),
    userDisplayName: user.name ?? user.email,
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: 'none',
    supportedAlgorithmIDs: ALGORITHMS,
    // §5.4.3: the same authenticator is not registered twice for one person.
    excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  await keepChallenge(deps, options.challenge, { purpose: 'register', userId: user.id, browser });
  return options;
}

/** Verify a registration response (§7.1) and keep the credential under `name`. */
export async function registerPasskey(deps: PasskeyDeps, user: User, browser: string, raw: unknown, name: string): Promise<RegistrationCheck> {
  const response = registrationResponse.safeParse(raw);
  if (!response.success) return { kind: 'refused', reason: 'malformed' };
  const taken = await takeChallenge(deps, response.data.response.clientDataJSON, { purpose: 'register', userId: user.id, browser });
  if ('refused' in taken) return { kind: 'refused', reason: taken.refused };
  const rp = relyingParty(deps);
  let info;
  try {
    const verified = await verifyRegistrationResponse({
      response: response.data as RegistrationResponseJSON,
      expectedChallenge: taken.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: true,
      supportedAlgorithmIDs: ALGORITHMS,
    });
    info = verified.verified ? verified.registrationInfo : undefined;
  } catch {
    info = undefined;
  }
  if (!info) return { kind: 'refused', reason: 'invalid' };
  const credential: PasskeyCredential = {
    id: info.credential.id,
    userId: user.id,
    publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
    counter: info.credential.counter,
    transports: (response.data.response.transports ?? []).filter((t) => /^[a-z-]{1,20}$/.test(t)).slice(0, 8),
    backedUp: info.credentialBackedUp,
    name: passkeyName(name),
    createdAt: deps.now(),
    lastUsedAt: null,
  };
  if (!(await deps.store.passkeys.add(credential))) return { kind: 'refused', reason: 'already_registered' };
  return { kind: 'ok', credential };
}

/**
 * Options for proving a passkey (navigator.credentials.get, §5.5): for a second factor, the
 * person's own credentials; for a sign-in, none listed (discoverable credentials, the person picks
 * one on the device) and user verification required.
 */
export async function authenticationOptions(deps: PasskeyDeps, browser: string, user?: User): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const allow = user ? (await deps.store.passkeys.forUser(user.id)).map((c) => ({ id: c.id, transports: c.transports })) : undefined;
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(deps).id,
    timeout: CEREMONY_TIMEOUT_MS,
    userVerification: user ? 'preferred' : 'required',
    ...(allow ? { allowCredentials: allow } : {}),
  });
  await keepChallenge(deps, options.challenge, user ? { purpose: 'second-factor', userId: user.id, browser } : { purpose: 'sign-in', browser });
  return options;
}

/**
 * Verify an assertion (§7.2). `userId`: the person already identified by a password (second
 * factor), whose credential it must be; without it, a sign-in: user verification is required and
 * the user handle must name the credential's owner.
 */
export async function verifyPasskey(deps: PasskeyDeps, browser: string, raw: unknown, userId?: string): Promise<AssertionCheck> {
  const response = assertionResponse.safeParse(raw);
  if (!response.success) return { kind: 'refused', reason: 'malformed' };
  const assertion = { ...response.data, response: { ...response.data.response, userHandle: response.data.response.userHandle ?? undefined } } as AuthenticationResponseJSON;
  const purpose: CeremonyPurpose = userId ? 'second-factor' : 'sign-in';
  const taken = await takeChallenge(deps, assertion.response.clientDataJSON, userId ? { purpose, userId, browser } : { purpose, browser });
  if ('refused' in taken) return { kind: 'refused', reason: taken.refused, userId };
  const credential = await deps.store.passkeys.find(assertion.id);
  if (!credential) return { kind: 'refused', reason: 'unknown_credential', userId };
  const owner = credential.userId;
  if (userId && owner !== userId) return { kind: 'refused', reason: 'not_yours', userId };
  if (!userId && assertion.response.userHandle !== userHandle(owner)) return { kind: 'refused', reason: 'not_yours', userId: owner };
  if (!userId && !userVerified(assertion.response.authenticatorData)) return { kind: 'refused', reason: 'user_verification_missing', userId: owner };
  const signed = await signedCounter(deps, assertion, taken.challenge, credential, !userId);
  if (signed === undefined) return { kind: 'refused', reason: 'invalid', userId: owner };
  if (!(await deps.store.passkeys.use(credential.id, signed.counter, signed.backedUp, deps.now()))) return { kind: 'refused', reason: 'counter_regression', userId: owner };
  const user = await deps.store.users.findById(owner);
  if (!user) return { kind: 'refused', reason: 'unknown_credential' };
  return { kind: 'ok', user, credential };
}

/** The library's checks (origin, RP ID hash, type, UP/UV flags, signature): the signed counter, or undefined. */
async function signedCounter(deps: PasskeyDeps, assertion: AuthenticationResponseJSON, challenge: string, credential: PasskeyCredential, requireUv: boolean) {
  const rp = relyingParty(deps);
  try {
    const verified = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: requireUv,
      // Counter 0 here: the counter rule is the store's conditional UPDATE (one winner under races).
      credential: { id: credential.id, publicKey: new Uint8Array(Buffer.from(credential.publicKey, 'base64url')), counter: 0, transports: credential.transports },
    });
    if (!verified.verified) return undefined;
    return { counter: verified.authenticationInfo.newCounter, backedUp: verified.authenticationInfo.credentialBackedUp };
  } catch {
    return undefined;
  }
}

/** The UV flag of authenticator data (§6.1: flags byte after the 32-byte RP ID hash, bit 2). */
function userVerified(authenticatorData: string): boolean {
  const bytes = Buffer.from(authenticatorData, 'base64url');
  return bytes.length >= 37 && (bytes[32]! & 0x04) !== 0;
}

const b64url = z.string().regex(/^[A-Za-z0-9_-]*$/).max(16_384);

/** What a browser posts, checked for shape before the library reads it (it is untrusted input). */
const registrationResponse = z.object({
  id: b64url.min(1),
  rawId: b64url.min(1),
  type: z.literal('public-key'),
  response: z.object({ clientDataJSON: b64url, attestationObject: b64url, transports: z.array(z.string().max(20)).max(10).optional() }).passthrough(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.string().max(40).optional(),
});

const assertionResponse = z.object({
  id: b64url.min(1),
  rawId: b64url.min(1),
  type: z.literal('public-key'),
  response: z.object({ clientDataJSON: b64url, authenticatorData: b64url, signature: b64url, userHandle: b64url.nullish() }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.string().max(40).optional(),
});
