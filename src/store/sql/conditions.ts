/**
 * The optional filters of a list query, AND-ed into one WHERE clause: each value gets the next
 * numbered placeholder ($1, $2, …), which both dialects accept, and the values stay parameters —
 * never text in the SQL.
 */
import type { SqlValue } from './driver.ts';

export class Conditions {
  readonly params: SqlValue[] = [];
  readonly #clauses: string[] = [];

  /** `clause` with one `?` standing for `value`, e.g. `org_id = ?`. */
  add(clause: string, value: SqlValue): this {
    this.params.push(value);
    this.#clauses.push(clause.replace('?', `$${this.params.length}`));
    return this;
  }

  /** A clause without a value, e.g. `revoked_at IS NULL`. */
  require(clause: string): this {
    this.#clauses.push(clause);
    return this;
  }

  /** `WHERE … AND …`, or nothing when no filter was given. */
  where(): string {
    return this.#clauses.length ? `WHERE ${this.#clauses.join(' AND ')}` : '';
  }

  /** The placeholder for one more value after the filters (a LIMIT). */
  next(value: SqlValue): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
}
