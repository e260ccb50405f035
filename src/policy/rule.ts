/**
 * Policy as small named rules: each is a pure function of the call it judges and returns a
 * Decision with the rule's name, which the gateway logs and audits with every denial.
 */
import type { Application, ToolRule } from '../core/application.ts';
import type { DenialCode } from '../core/errors.ts';
import type { ResourceTree } from '../identity/permissions.ts';
import type { ResourceLevels } from '../shared/levels.ts';

export interface Caller {
  subject: string;
  clientId: string;
  scopes: ReadonlySet<string>;
  /** When the user last signed in (seconds), if known. */
  authTime: number | undefined;
  /** How the user signed in (token claim `acr`): a step-up with `mfa` needs shared/acr.ts ACR_MFA. */
  acr?: string;
  ip: string;
  /** The organization the caller acts for (token claim `org_id`, or the API key's organization). */
  orgId?: string;
  /** Resource id → level (token claim `res`, or the API key's effective levels), before inheritance. */
  levels?: ResourceLevels;
  /** An OAuth access token, or an API key (which has no sign-in, so no step-up). */
  credential?: 'token' | 'key';
}

/** What one JSON-RPC request asks for, as far as policy is concerned. */
export interface CallTarget {
  method: string;
  /** tools/call, prompts/get */
  name?: string;
  /** resources/read, resources/subscribe */
  uri?: string;
  arguments?: Record<string, unknown>;
}

export interface PolicyInput {
  app: Application;
  caller: Caller;
  target: CallTarget;
  /**
   * What the manifest says of the tool being called (tools/call only): has it been reviewed, and
   * the annotations it was listed with (JSON), which decide its default scope.
   */
  tool?: { status: 'approved' | 'needs_review'; annotations: string | null };
  /** Epoch milliseconds. */
  now: number;
  /** The resource tree of the caller's organization (argument-level constraints). */
  tree?: ResourceTree;
}

export type Decision =
  | { allow: true }
  | { allow: false; code: DenialCode; rule: string; detail: Record<string, string> };

export type Rule = (input: PolicyInput) => Decision;

export const ALLOW: Decision = { allow: true };

export function deny(code: DenialCode, rule: string, detail: Record<string, string> = {}): Decision {
  return { allow: false, code, rule, detail };
}

/**
 * The administrator's rules for a tool, if any. Own keys only: a tool named `constructor` or
 * `__proto__` must not pick up Object.prototype members as its rules.
 */
export function toolRule(app: Pick<Application, 'tools'>, name: string): ToolRule | undefined {
  return Object.hasOwn(app.tools, name) ? app.tools[name] : undefined;
}

/** The first denial wins; rules run in the order given. */
export function evaluate(rules: readonly Rule[], input: PolicyInput): Decision {
  for (const rule of rules) {
    const decision = rule(input);
    if (!decision.allow) return decision;
  }
  return ALLOW;
}
