/**
 * The layers of Portcullis, enforced: `npm test` runs these rules (test/architecture/layers.test.ts),
 * and `npx depcruise src` prints any violation. Lower layers never import higher ones; every rule
 * covers type-only imports too (a type is a dependency of the design). docs/ARCHITECTURE.md draws
 * the picture.
 *
 *   shared            what the server and the published SDKs share — imports nothing of ours
 *   sdk/*             the published SDKs (portcullis/guard, portcullis/device-login) — shared only
 *   core              config and its domain types, errors, crypto, clock, logging — shared only
 *   store             the Store interfaces and their SQL implementations — core, shared
 *   fanout            the change feed beside the store — store, core, shared; wired by server and cli
 *   domain services   identity, api-keys, signing-keys, applications, clients, policy (pure), audit, limits,
 *                     revocation, demo, metrics, scim — free of HTTP: core, shared, store, each other (no cycles)
 *   http              node:http plumbing every route shares — core, shared
 *   web               the shared web layer: layout, escaping, forms, CSRF, cookies, page parts
 *   authz, gateway    the protocol (engine and its pages) and the MCP gateway
 *   admin-api, console  the admin JSON API and the console pages
 *   server            the composition root;  cli  the command line (its `start` runs the server)
 */
const DOMAIN = '(identity|api-keys|signing-keys|applications|clients|policy|audit|limits|revocation|demo|metrics|scim)';
const ABOVE_DOMAIN = '(http|web|authz|gateway|admin-api|console|cli|server|sdk)';

module.exports = {
  forbidden: [
    { name: 'shared-imports-nothing-of-ours', severity: 'error', from: { path: '^src/shared/' }, to: { path: '^src/(?!shared/)' } },
    { name: 'sdks-know-no-server', severity: 'error', from: { path: '^src/sdk/' }, to: { path: '^src/(?!shared/|sdk/)' } },
    { name: 'sdks-are-separate-packages', severity: 'error', from: { path: '^src/sdk/([^/]+)/' }, to: { path: '^src/sdk/', pathNot: '^src/sdk/$1/' } },
    { name: 'core-is-the-ground-floor', severity: 'error', from: { path: '^src/core/' }, to: { path: '^src/(?!core/|shared/)' } },
    { name: 'store-knows-only-core', severity: 'error', from: { path: '^src/store/' }, to: { path: '^src/(?!store/|core/|shared/)' } },
    {
      name: 'fanout-beside-the-store',
      comment: 'the change feed knows the Store and core only; only the composition root (server) and the CLI wire it',
      severity: 'error',
      from: { path: '^src/fanout/' },
      to: { path: '^src/(?!fanout/|store/|core/|shared/)' },
    },
    { name: 'only-server-and-cli-wire-the-feed', severity: 'error', from: { path: '^src/(?!fanout/|server/|cli/)' }, to: { path: '^src/fanout/' } },
    { name: 'domain-services-know-no-http', severity: 'error', from: { path: `^src/${DOMAIN}/` }, to: { path: `^src/${ABOVE_DOMAIN}/` } },
    {
      name: 'policy-is-pure',
      comment: 'rules are pure functions of their input: no store, no services (the permission model is pure too)',
      severity: 'error',
      from: { path: '^src/policy/' },
      to: { path: '^src/(?!policy/|core/|shared/|identity/permissions[.]ts$)' },
    },
    { name: 'http-is-plumbing', severity: 'error', from: { path: '^src/http/' }, to: { path: '^src/(?!http/|core/|shared/)' } },
    { name: 'web-layer-below-pages', severity: 'error', from: { path: '^src/web/' }, to: { path: '^src/(authz|gateway|admin-api|console|cli|server|sdk)/' } },
    { name: 'protocol-below-surfaces', severity: 'error', from: { path: '^src/authz/' }, to: { path: '^src/(gateway|admin-api|console|cli|server|sdk)/' } },
    { name: 'gateway-has-no-pages', severity: 'error', from: { path: '^src/gateway/' }, to: { path: '^src/(web|authz|admin-api|console|cli|server|sdk)/' } },
    { name: 'admin-api-is-not-a-page', severity: 'error', from: { path: '^src/admin-api/' }, to: { path: '^src/(authz|console|cli|server|sdk)/' } },
    { name: 'console-is-pages-only', severity: 'error', from: { path: '^src/console/' }, to: { path: '^src/(authz|gateway|admin-api|cli|server|sdk)/' } },
    { name: 'server-does-not-know-the-cli', severity: 'error', from: { path: '^src/server/' }, to: { path: '^src/(cli|sdk)/' } },
    { name: 'no-cycles', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
  ],
  options: {
    // TypeScript 7.0 has no compiler API for dependency-cruiser yet; swc parses our erasable TypeScript.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
