/**
 * A database that cannot be reached is an outage, not a bug: every driver call that fails for
 * that reason throws `PortcullisError('unavailable')` (503 with Retry-After at every surface),
 * with the driver's error as its cause for the log. Callers never see a driver error for an
 * outage, so none can rename it (an unknown client, "no interaction") or leak it (an internal
 * address in a tool result). Recovery needs nothing: the next call opens a new connection.
 */
import { PortcullisError } from '../../core/errors.ts';
import { witnessOutage } from '../../core/outage-witness.ts';
import type { SqlDriver } from './driver.ts';

/** Socket-level failures: the server is down, restarting, or the network is. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
/**
 * PostgreSQL SQLSTATEs (Appendix A): class 08 connection exceptions; 57P01 admin_shutdown,
 * 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, shutting down, recovering);
 * 53300 too_many_connections.
 */
const POSTGRES_OUTAGE = /^(08...|57P0[123]|53300)$/;
/** node-postgres' own wording for a connection lost or never made (it has no code for these). */
const PG_CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|Connection terminated due to connection timeout/i;
/**
 * SQLite result codes (sqlite.org/rescode.html, primary code = extended & 0xff): BUSY and LOCKED
 * after busy_timeout (another process holds the file), IOERR, FULL (disk), CANTOPEN.
 */
const SQLITE_OUTAGE = new Set([5, 6, 10, 13, 14]);

export function isDatabaseOutage(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, errcode, message } = err as { code?: unknown; errcode?: unknown; message?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_OUTAGE.test(code))) return true;
  if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') return SQLITE_OUTAGE.has(errcode & 0xff);
  return typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message);
}

function outage(cause: unknown): PortcullisError {
  const err = new PortcullisError('unavailable', 'the database cannot be reached right now', { rule: 'store-unavailable', cause });
  witnessOutage(err);
  return err;
}

async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw isDatabaseOutage(err) ? outage(err) : err;
  }
}

/** The driver, with every outage reported as `unavailable`. */
export function reportingOutages(driver: SqlDriver): SqlDriver {
  return {
    dialect: driver.dialect,
    run: (sql, params) => guarded(() => driver.run(sql, params)),
    get: (sql, params) => guarded(() => driver.get(sql, params)),
    all: (sql, params) => guarded(() => driver.all(sql, params)),
    exec: (script) => guarded(() => driver.exec(script)),
    migrationTransaction: (fn) => guarded(() => driver.migrationTransaction(fn)),
    transaction: (fn) => guarded(() => driver.transaction(fn)),
    close: () => driver.close(),
  };
}
