/** People with an account. */

export interface User {
  id: string;
  email: string;
  name: string | null;
  passwordHash: string | null;
  createdAt: number;
  disabledAt: number | null;
  deletedAt: number | null;
  /** Server administrator (the first user created through the setup link). */
  isAdmin: boolean;
}

export interface UserStore {
  /** Fails with PortcullisError('conflict') when the e-mail is taken (case-insensitive). */
  create(input: { email: string; name?: string | null; passwordHash?: string | null; isAdmin?: boolean }): Promise<User>;
  findById(id: string): Promise<User | undefined>;
  findByEmail(email: string): Promise<User | undefined>;
  setPassword(id: string, passwordHash: string): Promise<void>;
  /** The display name (null clears it); false when unknown or deleted. */
  setName(id: string, name: string | null): Promise<boolean>;
  /**
   * Change the e-mail address (sign-in name): `taken` when another account has it (compared
   * case-insensitively — accounts are never merged), `not_found` when unknown or erased.
   */
  setEmail(id: string, email: string): Promise<'ok' | 'taken' | 'not_found'>;
  /** Disable (at) or enable (null). False when unknown. */
  setDisabled(id: string, at: number | null): Promise<boolean>;
  /** Erase personal data (e-mail becomes a tombstone, name and password go); the id stays. */
  erase(id: string, at: number): Promise<boolean>;
  list(): Promise<User[]>;
  count(): Promise<number>;
}
