/**
 * Passkeys (identity/passkeys.ts): WebAuthn public-key credentials registered by a person, used as
 * a second factor after the password or to sign in without one.
 */

export interface PasskeyCredential {
  /** The credential ID the authenticator chose (base64url); unique across every account. */
  id: string;
  userId: string;
  /** The credential public key, COSE-encoded (RFC 9053), base64url. */
  publicKey: string;
  /** The newest signature counter seen (WebAuthn §6.1.1); 0 for authenticators that keep none. */
  counter: number;
  /** Where the browser may find it (usb, nfc, ble, internal, hybrid): a hint for the next ceremony. */
  transports: string[];
  /** The authenticator says the key is synced (backup state, WebAuthn §6.1 flag BS). */
  backedUp: boolean;
  /** The person's name for it ("Work laptop"). */
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface PasskeyStore {
  /** Keep a new credential; false when this credential ID is registered already (to anyone). */
  add(credential: PasskeyCredential): Promise<boolean>;
  find(id: string): Promise<PasskeyCredential | undefined>;
  /** A person's passkeys, oldest first. */
  forUser(userId: string): Promise<PasskeyCredential[]>;
  /**
   * Record a use with the counter the authenticator signed, in one conditional statement: the
   * counter must move forward (or stay 0 for an authenticator without one). False when it did not
   * — a cloned authenticator, or the same assertion used twice at once (one winner).
   */
  use(id: string, counter: number, backedUp: boolean, now: number): Promise<boolean>;
  /** Remove one of this person's passkeys; false when they have none with this ID. */
  remove(userId: string, id: string): Promise<boolean>;
}
