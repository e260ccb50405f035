/**
 * For the condition and step-up tests: the one fixture MCP server (test/helpers/gateway.ts) with a
 * bank's tools — it records every request, so a test can assert that a denied call never reached
 * it and an allowed one did — and a WWW-Authenticate parser for several challenges.
 */
import assert from 'node:assert/strict';
import { DESTRUCTIVE, READ, startFixtureMcp, WRITE, type FixtureMcp, type FixtureTool } from '../helpers/gateway.ts';

/** A read-only, a writing and a destructive tool: scopes <slug>:read, :write, :delete by default. */
export const FIXTURE_TOOLS: FixtureTool[] = [
  { name: 'read_balance', description: 'The read_balance fixture tool', annotations: READ },
  { name: 'move_money', description: 'The move_money fixture tool', annotations: WRITE },
  { name: 'close_account', description: 'The close_account fixture tool', annotations: DESTRUCTIVE },
];

/** The one fixture MCP server (test/helpers/gateway.ts), with the bank tools: it records every request. */
export type RecordingUpstream = FixtureMcp;

export function startRecordingUpstream(tools: FixtureTool[] = FIXTURE_TOOLS): Promise<RecordingUpstream> {
  return startFixtureMcp({ tools });
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse a WWW-Authenticate value that may hold several challenges (RFC 9110 §11.6.1), each
 * `scheme param="value", …` with quoted-string values (the only form the gateway sends).
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const token = /\s*,?\s*(?:([A-Za-z][\w!#$%&'*+.^`|~-]*)="((?:[^"\\]|\\.)*)"|([A-Za-z][\w!#$%&'*+.^`|~-]*))/gy;
  let match: RegExpExecArray | null;
  while ((match = token.exec(header)) !== null) {
    if (match[3] !== undefined) challenges.push({ scheme: match[3], params: {} });
    else {
      const current = challenges.at(-1);
      assert.ok(current, `auth-param before any scheme in ${header}`);
      current.params[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
    }
    if (token.lastIndex === header.length) break;
  }
  assert.equal(token.lastIndex, header.length, `unparsable WWW-Authenticate: ${header}`);
  return challenges;
}
