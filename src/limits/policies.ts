/**
 * Which limits apply to one gateway call: the configuration file's (`limits`) narrowed by the
 * caller's organization's settings (`settings.limits`), as a list of counters to charge. Each
 * counter's name is what the RateLimit-Policy field calls it on the wire.
 *
 * Scopes and what they count (each one call per tools/call, resources/read or prompts/get):
 *   org          every call of the organization
 *   user         one user's calls within the organization
 *   client       one OAuth client's calls within the organization (not API keys)
 *   api-key      one API key's calls
 *   application  every call to the application, whoever makes it (configuration file only)
 *   tool         one user's calls of one tool
 *   org-day, org-month, user-day, user-month   quotas per UTC day and month
 */
import { withinRate, type LimitSettings, type Quota, type Rate } from '../core/limit-settings.ts';
import { PERIOD_KEEP_SECONDS, periodOf, type PeriodKind } from './periods.ts';

export interface LimitedCall {
  /** The application's slug. */
  application: string;
  orgId?: string;
  subject: string;
  /** The OAuth client (`key:<id>` for an API key). */
  clientId: string;
  /** The API key's id, when the caller used one. */
  keyId?: string;
  /** One entry per counted message: the tool it calls, or undefined (resources/read, prompts/get). */
  targets: (string | undefined)[];
}

export type LimitCode = 'rate_limited' | 'quota_exceeded';

/** One counter a call is charged to. */
export interface Charge {
  policy: string;
  code: LimitCode;
  /** The counter's identity: its policy and size (backend.ts counter). */
  counter: { name: string; points: number; seconds: number };
  key: string;
  points: number;
  /** Quotas: when the period ends (epoch seconds, server clock); rates reset by the counter's own time. */
  endsAt?: number;
  /** The policy's window as advertised (RateLimit-Policy `w`). */
  window: number;
}

/** The tighter of two optional rates (an organization's setting never loosens the server's). */
function tighter(server: Rate | undefined, org: Rate | undefined): Rate | undefined {
  if (!server) return org;
  if (!org) return server;
  return withinRate(org, server) ? org : server;
}

function smaller(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

function rateCharge(policy: string, rate: Rate | undefined, key: string, points: number): Charge[] {
  if (!rate || points === 0) return [];
  return [{ policy, code: 'rate_limited', counter: { name: policy, points: rate.limit, seconds: rate.window }, key, points, window: rate.window }];
}

function quotaCharges(who: 'org' | 'user', server: Quota | undefined, org: Quota | undefined, key: string, points: number, now: number): Charge[] {
  return (['day', 'month'] as PeriodKind[]).flatMap((kind) => {
    const quota = smaller(server?.[kind], org?.[kind]);
    if (quota === undefined || points === 0) return [];
    const period = periodOf(kind, now);
    const policy = `${who}-${kind}`;
    const counter = { name: policy, points: quota, seconds: PERIOD_KEEP_SECONDS[kind] };
    return [{ policy, code: 'quota_exceeded' as const, counter, key: `${key}:${period.name}`, points, endsAt: period.endsAt, window: kind === 'day' ? 86400 : 30 * 86400 }];
  });
}

/** The rate of a client or an API key: its own, else the scope's, the organization's before the server's. */
function ownRate(server: LimitSettings, org: LimitSettings, map: 'clients' | 'apiKeys', scope: 'client' | 'apiKey', id: string): Rate | undefined {
  return tighter(server[map]?.[id] ?? server[scope], org[map]?.[id] ?? org[scope]);
}

/** Every counter `call` is charged to, at `now` (epoch seconds, the server's clock). */
export function chargesFor(call: LimitedCall, server: LimitSettings, org: LimitSettings = {}, now: number): Charge[] {
  const points = call.targets.length;
  const orgKey = call.orgId ?? '-';
  const userKey = `${orgKey}:${call.subject}`;
  const charges: Charge[] = [
    ...rateCharge('application', server.application, call.application, points),
    ...(call.orgId ? rateCharge('org', tighter(server.org, org.org), call.orgId, points) : []),
    ...rateCharge('user', tighter(server.user, org.user), userKey, points),
    ...(call.keyId === undefined
      ? rateCharge('client', ownRate(server, org, 'clients', 'client', call.clientId), `${orgKey}:${call.clientId}`, points)
      : rateCharge('api-key', ownRate(server, org, 'apiKeys', 'apiKey', call.keyId), call.keyId, points)),
  ];
  const perTool = new Map<string, number>();
  for (const tool of call.targets) if (tool !== undefined) perTool.set(tool, (perTool.get(tool) ?? 0) + 1);
  for (const [tool, count] of perTool) {
    const named = `${call.application}/${tool}`;
    const rate = tighter(server.tools?.[named] ?? server.tool, org.tools?.[named] ?? org.tool);
    charges.push(...rateCharge('tool', rate, `${userKey}:${named}`, count));
  }
  if (call.orgId) charges.push(...quotaCharges('org', server.quotas?.org, org.quotas?.org, call.orgId, points, now));
  charges.push(...quotaCharges('user', server.quotas?.user, org.quotas?.user, userKey, points, now));
  return charges;
}
