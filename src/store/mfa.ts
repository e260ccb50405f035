/** Second factors (identity/totp.ts): a TOTP authenticator per user and its recovery codes. */

export interface TotpFactor {
  userId: string;
  /** The base32 secret, sealed by the caller (never in clear here). */
  secretSealed: string;
  createdAt: number;
  /** Null until the person proved the authenticator works by typing a code. */
  confirmedAt: number | null;
  /** The newest time step a code was accepted for (RFC 6238 §5.2: no code twice). */
  lastStep: number | null;
}

export interface MfaStore {
  findTotp(userId: string): Promise<TotpFactor | undefined>;
  /** Start (or restart) an enrolment: replaces an unconfirmed factor, never a confirmed one. False when one is confirmed. */
  putPendingTotp(userId: string, secretSealed: string, now: number): Promise<boolean>;
  /** Confirm the pending factor with the step its first code was for; false when none is pending. */
  confirmTotp(userId: string, step: number, now: number): Promise<boolean>;
  /** Accept a code's step once, in one statement: false when a code for this or a later step was used already. */
  useTotpStep(userId: string, step: number): Promise<boolean>;
  /** Remove the factor and every recovery code. */
  deleteTotp(userId: string): Promise<void>;
  /** Replace all recovery codes with these keyed hashes (one transaction). */
  replaceRecoveryCodes(userId: string, hashes: string[], now: number): Promise<void>;
  /** Mark one unused code used, in one statement: false when unknown or used. */
  useRecoveryCode(userId: string, hash: string, now: number): Promise<boolean>;
  unusedRecoveryCodes(userId: string): Promise<number>;
}
