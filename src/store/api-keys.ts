/** API keys: keyed hashes and what each may do (api-keys/service.ts). */
import type { Level } from '../shared/levels.ts';

/** `admin`: the key may also call its org's admin API (only org owners and admins can issue one). */
export type ApiKeyPermissions = ({ mode: 'simple'; level: 'read' | 'write' } | { mode: 'granular'; levels: Record<string, Level> }) & { admin?: boolean };

export interface ApiKeyRecord {
  id: string;
  orgId: string;
  /** The creator: the key never exceeds their permissions. */
  userId: string;
  name: string;
  /** `pcs_` + the first characters, to tell keys apart. */
  prefix: string;
  /** HMAC-SHA-256(pepper, key). */
  hash: string;
  /** Application slugs the key may be used with; null = all. */
  applications: string[] | null;
  /** Resource ids the key is limited to; null = all resources. */
  resources: string[] | null;
  permissions: ApiKeyPermissions;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  revokedBy: string | null;
  lastUsedAt: number | null;
  lastUsedIp: string | null;
}

export interface ApiKeyStore {
  create(key: Omit<ApiKeyRecord, 'revokedAt' | 'revokedBy' | 'lastUsedAt' | 'lastUsedIp'>): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  byHash(hash: string): Promise<ApiKeyRecord | undefined>;
  list(filter: { orgId?: string; userId?: string }): Promise<ApiKeyRecord[]>;
  /** Permanent: revoked_at is set once and never cleared. False when unknown or already revoked. */
  revoke(id: string, by: string, at: number): Promise<boolean>;
  /** Revoke every live key of a user (in one org, or everywhere). Returns the ids revoked. */
  revokeForUser(userId: string, by: string, at: number, orgId?: string): Promise<string[]>;
  touch(id: string, at: number, ip: string | null): Promise<void>;
}
