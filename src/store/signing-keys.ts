/** Token-signing keys, sealed at rest, with their lifetimes (signing-keys/key-ring.ts). */

export interface SigningKeyRecord {
  kid: string;
  alg: string;
  /** Public JWK as JSON text. */
  publicJwk: string;
  /** Private JWK sealed under the data-encryption key. */
  privateJwkSealed: string;
  createdAt: number;
  /** When it stopped signing; it stays published for verification until its tokens have expired. */
  retiredAt: number | null;
}

export interface SigningKeyStore {
  list(): Promise<SigningKeyRecord[]>;
  insert(record: SigningKeyRecord): Promise<void>;
  /** Retire every key except `keepKid` that is not yet retired. */
  retireAllExcept(keepKid: string, at: number): Promise<void>;
  deleteRetiredBefore(at: number): Promise<number>;
  /** Stop publishing one retired key now (never an active one). True when a key was removed. */
  deleteRetired(kid: string): Promise<boolean>;
}
