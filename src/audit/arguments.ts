/**
 * What the audit trail keeps of a tool call's arguments, as its application opts in
 * (`audit.arguments`, core/application.ts): nothing by default — arguments are the user's data;
 * `hash`: a keyed hash of their canonical JSON, so identical calls can be matched without any
 * argument being readable (a plain hash of a short value could be guessed by trying values);
 * `full`: the arguments with every value under a key matching a redaction pattern replaced, at any
 * depth, and cut to a size a record can carry.
 */
import { canonicalJson } from '../core/canonical-json.ts';
import { keyedHash, type SecretKey } from '../core/crypto.ts';

export type RecordedArguments = { hash: string } | { value: unknown } | { value: '[too large]'; hash: string };

/** Largest `full` arguments kept as they are (serialized); larger ones keep their hash only. */
const MAX_FULL_BYTES = 8 * 1024;
const REDACTED = '[redacted]';

export interface ArgumentRecorder {
  (mode: 'none' | 'hash' | 'full', redact: readonly string[], args: unknown): RecordedArguments | undefined;
}

function redacted(value: unknown, patterns: readonly RegExp[], depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redacted(v, patterns, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, v]) => [key, patterns.some((p) => p.test(key)) ? REDACTED : redacted(v, patterns, depth + 1)]),
    );
  }
  return value;
}

/** `serverPatterns`: `audit.redactKeys`; each application's own patterns are added to them. */
export function argumentRecorder(key: SecretKey, serverPatterns: readonly string[]): ArgumentRecorder {
  const compiled = new Map<string, RegExp>();
  const regex = (source: string) => {
    let re = compiled.get(source);
    if (!re) compiled.set(source, (re = new RegExp(source, 'i')));
    return re;
  };
  return (mode, redact, args) => {
    if (mode === 'none' || args === undefined) return undefined;
    // Domain-separated from the key's other uses (API-key and secret look-ups).
    const hash = keyedHash(key, `audit.arguments\n${canonicalJson(args)}`);
    if (mode === 'hash') return { hash };
    const value = redacted(args, [...serverPatterns, ...redact].map(regex));
    return JSON.stringify(value).length > MAX_FULL_BYTES ? { value: '[too large]', hash } : { value };
  };
}
