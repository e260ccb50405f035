/** Registered OAuth clients (pre-registered and dynamic). */

export type ClientRecordKind = 'static' | 'dynamic';

/** A registered OAuth client: engine metadata, with `client_secret` replaced by its keyed hash. */
export interface ClientRecord {
  clientId: string;
  metadata: Record<string, unknown>;
  kind: ClientRecordKind;
  createdAt: number;
  /** First successful authorization; dynamic clients that never get one are removed after a while. */
  lastUsedAt: number | null;
}

export interface ClientStore {
  /** Insert or replace metadata; `createdAt`/`lastUsedAt` of an existing client are kept. */
  upsert(record: Omit<ClientRecord, 'createdAt' | 'lastUsedAt'> & { createdAt?: number }): Promise<void>;
  find(clientId: string): Promise<ClientRecord | undefined>;
  list(): Promise<ClientRecord[]>;
  delete(clientId: string): Promise<boolean>;
  markUsed(clientId: string, at: number): Promise<void>;
  /** Delete dynamic clients created before `createdBefore` that were never used. */
  deleteUnusedDynamic(createdBefore: number): Promise<number>;
}
