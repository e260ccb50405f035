/**
 * The pages and the admin API as one Hono app: the shared web layer's middleware (security
 * headers, CSRF cookie, bounded and readable forms), then every page group, then the errors no
 * page answered — an outage as a 503 page with Retry-After, anything else a bare 500.
 */
import type { ConnectionRecorder } from '../audit/doctor/recorder.ts';
import type { Limits } from '../limits/service.ts';
import { DeviceGuessLimits, DEFAULT_DEVICE_GUESS_POLICIES } from '../authz/device/guesses.ts';
import { FORGOT_PASSWORD_POLICIES } from '../console/account/forgot-password.ts';
import { BrowserSessions } from '../web/session.ts';
import { Csrf } from '../web/csrf.ts';
import { Hono } from 'hono';
import { RETRY_AFTER_SECONDS } from '../http/refusal.ts';
import { accountPages } from '../console/account/index.ts';
import { adminApi } from '../admin-api/api.ts';
import { scimApi } from '../admin-api/scim-api.ts';
import { consolePages } from '../console/pages.ts';
import { csrfCookie, readableForms, securityHeaders, type WebDeps, type WebEnv } from '../web/pages.ts';
import { deviceRoutes } from '../authz/device/routes.ts';
import { html, page } from '../web/html.ts';
import { interactionRoutes } from '../authz/interaction/routes.ts';
import { RelyingParties } from '../web/sso-relying-party.ts';
import { ssoFormTargets, ssoRoutes } from '../web/sso-routes.ts';
import { SamlServiceProviders } from '../web/saml-service-provider.ts';
import { samlRoutes, samlStart } from '../web/sso-saml-routes.ts';
import { createGuardFetch } from '../shared/outbound.ts';
import { invitationPages } from '../console/invitation-page.ts';
import { isUnavailable } from '../core/errors.ts';
import { orgApplicationPages, orgPages } from '../console/org-pages/index.ts';
import { serverPages } from '../console/server-pages/index.ts';
import { unknownUrl } from '../console/not-found.ts';
import type { ResourceRegistry } from '../applications/protected-resources.ts';
import type { AuthzEngine } from './authz-engine.ts';
import type { GatewayRuntime } from './gateway-runtime.ts';
import type { Logger } from 'pino';
import type { Config } from '../core/config.ts';
import type { DerivedSecrets } from '../core/crypto.ts';
import type { Store } from '../store/store.ts';
import type { RevocationList } from '../revocation/revocation-list.ts';
import type { GrantRevoker } from '../revocation/grant-revoker.ts';
import type { Mailer } from '../identity/mailer.ts';
import type { AuditLog } from '../audit/audit-log.ts';

export interface WebAppParts {
  config: Config;
  store: Store;
  secrets: DerivedSecrets;
  engine: AuthzEngine;
  gateway: GatewayRuntime;
  resources: ResourceRegistry;
  revocations: RevocationList;
  revokeGrant: GrantRevoker;
  auditLog: AuditLog;
  /** The connection doctor's recorder: interactions record sign-in and consent steps (authz/interaction/doctor-steps.ts). */
  doctor?: ConnectionRecorder;
  /** Attempt limits (sign-in, forgot-password, device codes) count here: shared through Redis when configured. */
  limits: Limits;
  mailer: Mailer | undefined;
  /** The resource a request that names none is for (the demo when it is served). */
  defaultResource: () => string | undefined;
  demoUrl: string;
  base: string;
  log: Logger;
  now: () => number;
}

const realTime = () => Date.now() / 1000;

export function buildWebApp(parts: WebAppParts): Hono<WebEnv> {
  const { config, store, secrets, engine, gateway, resources, revocations, revokeGrant, mailer, defaultResource, demoUrl, base, log, now } = parts;
    const sessions = new BrowserSessions(store, secrets.pepper, config.tokens.sessionTtl, now);
    const webDeps: WebDeps = {
      config,
      store,
      sessions,
      csrf: new Csrf(secrets.csrfKey, new URL(config.publicUrl).origin),
      provider: () => engine.provider,
      resources,
      limits: {
        // Sign-in and device-code limits run on real time (as before they moved onto the shared limiter).
        account: parts.limits.attempts('sign-in-account', { free: 5, window: 15 * 60, base: 30, maxLock: 15 * 60 }, realTime),
        ip: parts.limits.attempts('sign-in-ip', { free: 30, window: 15 * 60, base: 30, maxLock: 15 * 60 }, realTime),
        forgotAddress: parts.limits.attempts('forgot-address', FORGOT_PASSWORD_POLICIES.address),
        forgotIp: parts.limits.attempts('forgot-ip', FORGOT_PASSWORD_POLICIES.ip),
      },
      log,
      now,
      base,
      pepper: secrets.pepper,
      dataKey: secrets.dataKey,
      revokeGrant,
      revocations,
      audit: parts.auditLog,
    };
    const web = new Hono<WebEnv>().basePath(base || '/');
    web.use(securityHeaders(), ssoFormTargets(webDeps), csrfCookie(webDeps), readableForms());
    // SAML connections: metadata fetched like the guard's (https, no redirects; http only to loopback, which config allows in development).
    const samlDeps = { ...webDeps, saml: new SamlServiceProviders(() => `${config.publicUrl}/sso`, createGuardFetch({ allowHttpLoopback: true, timeoutMs: 10_000 }), now) };
    web.route('/', samlRoutes(samlDeps));
    web.route('/', ssoRoutes({ ...webDeps, dataKey: secrets.dataKey, relyingParties: new RelyingParties(() => `${config.publicUrl}/sso`), samlStart: samlStart(samlDeps) }));
    web.route('/', interactionRoutes({ ...webDeps, mailer, doctor: parts.doctor }));
    const guesses = new DeviceGuessLimits(DEFAULT_DEVICE_GUESS_POLICIES, realTime, (name, policy, clock) => parts.limits.attempts(name, policy, clock));
    web.route('/', deviceRoutes({ ...webDeps, defaultResource, guesses }));
    web.route('/', consolePages({ ...webDeps, pepper: secrets.pepper, mcpUrl: demoUrl }));
    web.route('/', accountPages({ ...webDeps, mailer }));
    web.route('/', orgPages({ ...webDeps, mailer }));
    web.route('/', invitationPages(webDeps));
    const adminDeps = { ...webDeps, gateway, signingKey: () => engine.signingKey(), mailer };
    web.route('/', serverPages(adminDeps));
    web.route('/', orgApplicationPages(adminDeps));
    web.route('/admin/api', adminApi(adminDeps));
    web.route('/scim/v2', scimApi(webDeps));
    // A browser gets the console's Not found page; API callers keep JSON (console/not-found.ts).
    web.notFound((c) => unknownUrl(webDeps, c));
    web.onError((err, c) => {
      if (isUnavailable(err)) {
        log.warn({ err }, 'page: a dependency is unavailable');
        c.header('retry-after', String(RETRY_AFTER_SECONDS));
        return c.html(page({ title: 'Try again shortly', body: html`<h1>Try again in a moment</h1><p>Portcullis cannot reach its database right now. Reload this page in a few seconds.</p><p class="muted" data-code="unavailable">Error code: <code>unavailable</code></p>` }), 503);
      }
      log.error({ err }, 'page error');
      return c.json({ error: 'internal_error' }, 500);
    });

  return web;
}
