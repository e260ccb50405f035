/**
 * The protocol engine (oidc-provider 9), configured — not forked. Everything Portcullis decides
 * about OAuth lives in its configuration (engine/configuration.ts and the parts it names) and in a
 * few small koa middlewares (engine/middleware.ts); the known engine gaps (DESIGN.md "Known engine
 * gaps") are each closed at the place named there.
 */
import Provider from 'oidc-provider';
import { patchClientModel, memoizeClientLookups } from './engine/client-model.ts';
import { engineConfiguration } from './engine/configuration.ts';
import type { AuthzDeps } from './engine/deps.ts';
import { installMiddleware } from './engine/middleware.ts';
import { limitTokenClients } from './engine/endpoint-limits.ts';
import { recordEngineEvents } from './engine/audit-events.ts';
import { recordConnectionSteps } from './engine/connection-steps.ts';
import { answerOutagesWith503 } from './outage.ts';

export type { AuthzDeps } from './engine/deps.ts';
export { ROUTES } from './protocol.ts';

export function buildProvider(deps: AuthzDeps): Provider {
  const { config, store, log, now } = deps;
  const provider = new Provider(config.publicUrl, engineConfiguration(deps));
  provider.proxy = config.trustProxy;
  patchClientModel(provider, deps.secrets.pepper);
  memoizeClientLookups(provider);
  if (deps.endpointLimits) limitTokenClients(provider);
  // Outermost: sees the answer every other step and the engine built (authz/outage.ts).
  answerOutagesWith503(provider, log);
  installMiddleware(provider, deps);
  if (deps.audit) recordEngineEvents(provider, deps.audit);
  if (deps.doctor) recordConnectionSteps(provider, deps.doctor);
  provider.on('authorization.success', (ctx) => {
    const clientId = ctx.oidc.client?.clientId;
    if (clientId) void store.clients.markUsed(clientId, now()).catch((err) => log.warn({ err }, 'could not mark client used'));
  });
  return provider;
}
