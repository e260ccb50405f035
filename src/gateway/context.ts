/**
 * One request through the gateway, as every step sees it: created once when the request arrives,
 * filled in step by step (who calls, what the body says, what the upstream answered), and read at
 * the end by the record step. What the steps may use of the server is `GatewayDeps`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Application } from '../core/application.ts';
import type { ApplicationRegistry } from '../applications/registry.ts';
import type { PortcullisError } from '../core/errors.ts';
import type { ResourceTree } from '../identity/permissions.ts';
import type { TokenVerifier, VerifiedToken } from '../shared/verify.ts';
import type { Bindings } from './bindings.ts';
import type { CallerIdentity } from './caller.ts';
import type { DecisionRecord } from '../audit/gateway-decisions.ts';
import type { ArgumentRecorder } from '../audit/arguments.ts';
import type { LimitedCall, LimitVerdict } from '../limits/call-limits.ts';
import type { StreamedResponse, Upstream } from './upstreams/upstream.ts';

export interface GatewayDeps {
  registry: ApplicationRegistry;
  bindings: Bindings;
  /**
   * A verifier whose audience is the given application's resource: JWT access tokens, and API keys
   * (`pcs_…`, api-keys/resolver.ts) resolved into the same identity.
   */
  verifierFor(app: Application): TokenVerifier;
  /** The resource tree of an organization, from memory (identity/org-trees.ts). */
  orgTree(orgId: string): Promise<ResourceTree>;
  /** An API key was used (last-used time and IP, written at most once a minute per key). */
  keyUsed?(keyId: string, ip: string): void;
  upstreamFor(app: Application): Upstream;
  resourceMetadataUrl(app: Application): string;
  /** Ask the upstream for its tools again (after notifications/tools/list_changed). */
  refreshManifest(app: Application): void;
  clientIp(req: IncomingMessage): string;
  /**
   * Every request's decision, once it has been answered (steps/record.ts). Called on the
   * request's path: queue, never wait — unless `holdAnswers`, when the answer waits for the
   * promise it returns (strict audit: held-answer.ts).
   */
  recordDecision?(record: DecisionRecord): void | Promise<void>;
  holdAnswers?: boolean;
  /** What a tool call's arguments become in the record (audit/arguments.ts); none when absent. */
  recordArguments?: ArgumentRecorder;
  /**
   * Rate limits and quotas (limits/call-limits.ts, on Redis or in memory): charge a call, or say
   * which limit refuses it (steps/limit.ts). None when absent.
   */
  limits?: { check(call: LimitedCall): Promise<LimitVerdict> };
  log: Logger;
  now?: () => number;
  maxBodyBytes?: number;
}

/** The dependencies with their defaults filled in, as the steps use them. */
export type StepDeps = GatewayDeps & { now: () => number; maxBodyBytes: number };

export function withDefaults(deps: GatewayDeps): StepDeps {
  return { ...deps, now: deps.now ?? (() => Date.now()), maxBodyBytes: deps.maxBodyBytes ?? 4 * 1024 * 1024 };
}

export interface GatewayRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly app: Application;
  /** When the request arrived: epoch milliseconds (deps.now), and monotonic (for the duration). */
  readonly receivedAt: number;
  readonly startedAt: number;
  /** The id the record and the `X-Request-Id` answer header carry. */
  readonly requestId: string;
  /** Set by authentication. */
  token?: VerifiedToken;
  caller?: CallerIdentity;
  /** Sessions, streams and tasks belong to this owner (caller.ts ownerOf). */
  owner?: string;
  /** A POST's messages in order (a single message is a batch of one), and how the body carried them. */
  messages: unknown[];
  batch: boolean;
  /** The client's `Mcp-Session-Id` (one the gateway minted), and the upstream's own id for it (bindings.ts). */
  sessionId?: string;
  upstreamSessionId?: string;
  /** The upstream's own id for the client's `Last-Event-ID` (a resumed stream). */
  upstreamEventId?: string;
  /** What the upstream answered; its body already taken as a Node stream (upstreams/upstream.ts nodeBody). */
  upstream?: { response: Response | StreamedResponse; body: Readable | null };
  /** The JSON-RPC error code of the upstream's answer, when it was one (a JSON answer's first error). */
  upstreamError?: number;
  /** Why the gateway refused — or, for `upstream_unavailable`, why the upstream failed. */
  refusal?: PortcullisError;
  /** What a step threw: the front door answers it (500, or 503 for an outage). */
  thrown?: unknown;
}

/** A request whose caller is known: every step after authentication sees one. */
export type AuthenticatedRequest = GatewayRequest & { token: VerifiedToken; caller: CallerIdentity; owner: string };

/** A step lets the request go on, or has answered it (refused, failed, or passed the answer on). */
export type StepResult = 'continue' | 'answered';

export type Step = (ctx: AuthenticatedRequest, deps: StepDeps) => StepResult | Promise<StepResult>;

export function newRequest(req: IncomingMessage, res: ServerResponse, app: Application, now: number): GatewayRequest {
  return { req, res, app, receivedAt: now, startedAt: performance.now(), requestId: randomUUID(), messages: [], batch: false };
}

/** A request header as one string (repeated headers joined, as HTTP allows for list values). */
export function requestHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
