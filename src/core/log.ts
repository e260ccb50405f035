/** Structured logs (pino). Secrets never reach a log line: tokens and keys are redacted by path. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'portcullis' },
      redact: {
        paths: ['authorization', 'headers.authorization', 'token', 'password', 'secret', 'client_secret', 'refresh_token', 'access_token'],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
