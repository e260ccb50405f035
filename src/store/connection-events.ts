/**
 * The connection doctor's record (audit/doctor/): what OAuth clients did while connecting. A short,
 * bounded, diagnostic record — never a token or a secret (callers keep `detail` to parameters'
 * shapes). Times are epoch seconds.
 */

export interface ConnectionEventInput {
  at: number;
  /** The OAuth client, when the request named one (metadata fetches name none). */
  clientId: string | null;
  /** The person, where known (after sign-in). */
  userId: string | null;
  /** What happened, e.g. `registered`, `authorize`, `token`, `gateway` (audit/doctor/events.ts). */
  kind: string;
  /** Whether the step succeeded. */
  ok: boolean;
  detail: Record<string, unknown> | null;
}

export interface ConnectionEvent extends ConnectionEventInput {
  id: number;
}

export interface ConnectionEventStore {
  /** Append a batch in one statement. */
  append(events: ConnectionEventInput[]): Promise<void>;
  /** A client's events since `since`, oldest first (at most `limit`, the newest ones). */
  forClient(clientId: string, since: number, limit?: number): Promise<ConnectionEvent[]>;
  /** A person's events since `since`, oldest first (at most `limit`, the newest ones). */
  forUser(userId: string, since: number, limit?: number): Promise<ConnectionEvent[]>;
  /** Every event since `since`, oldest first (at most `limit`, the newest ones): what the doctor diagnoses. */
  since(since: number, limit?: number): Promise<ConnectionEvent[]>;
  /** Events with `id` greater than `after`, oldest first (the watch). */
  newerThan(after: number, limit?: number): Promise<ConnectionEvent[]>;
  /** Delete events older than `before`, then all but the newest `keepPerClient` of each client; how many went. */
  sweep(before: number, keepPerClient: number): Promise<number>;
}
