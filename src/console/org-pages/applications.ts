/**
 * `/orgs/<slug>/applications`: the applications an organization owns, for its owners and admins —
 * the list with each one's checklist status, adding an MCP server (an HTTP URL: a command is only
 * server administrators' to run), its overview with the self-test as a button, editing, deleting
 * (after a confirmation page) and, in org-pages/application-tools.ts, the tools review. The views
 * are the server pages' (server-pages/applications-views.ts); every change goes through
 * applications/service.ts scoped to the organization — what `/orgs/:org/applications` of the
 * admin API calls — so another organization's or a server-wide application is "not found" here.
 */
import type { Hono } from 'hono';
import { applicationService, type ApplicationService } from '../../applications/service.ts';
import { selfTestStored } from '../../applications/status.ts';
import { isReadOnly } from '../../applications/views.ts';
import type { Org } from '../../store/orgs.ts';
import { notice } from '../account/layout.ts';
import { confirmFirst } from '../confirm.ts';
import { refusalPage } from '../refusals.ts';
import { html, type Html } from '../../web/html.ts';
import type { WebContext, WebEnv } from '../../web/pages.ts';
import type { ServerPagesDeps } from '../server-pages/access.ts';
import { formParts, NOTICES, refusedState } from '../server-pages/application-frame.ts';
import { serverInput, serverValues } from '../server-pages/application-input.ts';
import { applicationList, overview, serverForm, type FormState } from '../server-pages/applications-views.ts';
import { orgAccess, orgForm, orgPage, orgPath, type OrgAccess } from './access.ts';

export type OrgApplicationTab = 'overview' | 'tools';

/** The organization's application service: only its applications exist for it. */
export function orgApplicationService(deps: ServerPagesDeps, org: Org): ApplicationService {
  return applicationService({ store: deps.store, publicUrl: deps.config.publicUrl, now: deps.now, changed: () => deps.gateway.registry.reload(), audit: deps.audit, orgId: org.id, allowPrivateUpstreams: deps.config.organizationApplications.allowPrivateUpstreams });
}

/** The path of one tab of the organization's application `slug`. */
export function orgApplicationPath(deps: ServerPagesDeps, org: Org, slug: string, tab: OrgApplicationTab = 'overview'): string {
  return orgPath(deps, org, 'applications', `/${encodeURIComponent(slug)}${tab === 'tools' ? '/tools' : ''}`);
}

/** An application's page in the org section: its name, its tabs (plain links), `body`. */
export function orgApplicationPage(deps: ServerPagesDeps, c: WebContext, access: OrgAccess, name: string, slug: string, tab: OrgApplicationTab, body: Html): Promise<string> {
  const link = (id: OrgApplicationTab, label: string) =>
    html`<a href="${orgApplicationPath(deps, access.org, slug, id)}" data-testid="tab-${id}"${id === tab ? html` aria-current="page"` : ''}>${label}</a>`;
  return orgPage(deps, c, access, 'applications', html`<h2>${name}</h2><nav class="nav tabs" aria-label="Application" data-testid="application-tabs">${link('overview', 'Overview')}${link('tools', 'Tools')}</nav>
${notice(c, NOTICES)}${body}`);
}

/** Learn the tools now rather than at the first client's tools/list (in the background, as the admin API does). */
function learnTools(deps: ServerPagesDeps, slug: string): void {
  const app = deps.gateway.registry.get(slug);
  if (app) void deps.gateway.refreshManifest(app).catch((err: unknown) => deps.log.warn({ err, app: slug }, 'could not list the upstream tools'));
}

function formPage(deps: ServerPagesDeps, c: WebContext, access: OrgAccess, state: FormState | undefined, slug?: string): Promise<string> {
  const action = slug ? `${orgApplicationPath(deps, access.org, slug)}/edit` : orgPath(deps, access.org, 'applications', '/new');
  const form = serverForm(formParts(deps, c, action, slug ? 'org-applications:update' : 'org-applications:create'), state, slug !== undefined, true);
  return orgPage(deps, c, access, 'applications', html`<h2>${slug ? `Edit ${slug}` : 'Add an MCP server'}</h2>${form}`);
}

function listRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  app.get('/orgs/:org/applications', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    const apps = await orgApplicationService(deps, access.org).list();
    const intro = html`<p class="muted">MCP servers this organization manages. Who may call one is decided by tokens and policy, as for every application; this only says who manages it.</p>`;
    const list = applicationList(apps, (slug) => orgApplicationPath(deps, access.org, slug), orgPath(deps, access.org, 'applications', '/new'));
    return c.html(await orgPage(deps, c, access, 'applications', html`${notice(c, NOTICES)}${intro}${list}`));
  });

  app.get('/orgs/:org/applications/new', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    return c.html(await formPage(deps, c, access, undefined));
  });

  app.post('/orgs/:org/applications/new', async (c) => {
    const posted = await orgForm(deps, c, 'org-applications:create');
    if (posted instanceof Response) return posted;
    const { access, form } = posted;
    try {
      const created = await orgApplicationService(deps, access.org).create(serverInput({ ...form, kind: 'http' }), access.me.user.id);
      learnTools(deps, created.app.slug);
      return c.redirect(`${orgApplicationPath(deps, access.org, created.app.slug)}?done=created`, 303);
    } catch (err) {
      const { state, status } = refusedState(err, form);
      // Secrets typed are never sent back to the browser: header values are typed again.
      return c.html(await formPage(deps, c, access, { ...state, values: { ...state.values, headers: '' } }), status);
    }
  });
}

function overviewRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  app.get('/orgs/:org/applications/:slug', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    const slug = c.req.param('slug');
    try {
      const loaded = await orgApplicationService(deps, access.org).get(slug);
      const base = orgApplicationPath(deps, access.org, slug);
      const body = overview(loaded, formParts(deps, c, `${base}/test`, 'org-applications:test'), `${base}/edit`, formParts(deps, c, `${base}/delete`, 'org-applications:delete'));
      return c.html(await orgApplicationPage(deps, c, access, loaded.app.name, slug, 'overview', body));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });

  app.post('/orgs/:org/applications/:slug/test', async (c) => {
    const posted = await orgForm(deps, c, 'org-applications:test');
    if (posted instanceof Response) return posted;
    const slug = c.req.param('slug');
    try {
      await orgApplicationService(deps, posted.access.org).get(slug);
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    const result = await selfTestStored(deps.store, slug, { issuer: deps.config.publicUrl, signingKey: deps.signingKey, now: deps.now });
    deps.log.info({ event: 'admin.application.self_test', app: slug, passed: result?.passed, by: posted.access.me.user.id, org: posted.access.org.id }, 'self-test ran');
    return c.redirect(`${orgApplicationPath(deps, posted.access.org, slug)}?done=tested`, 303);
  });
}

function editRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  app.get('/orgs/:org/applications/:slug/edit', async (c) => {
    const access = await orgAccess(deps, c);
    if (access instanceof Response) return access;
    try {
      const { stored } = await orgApplicationService(deps, access.org).get(c.req.param('slug'));
      if (isReadOnly(stored.source)) return c.redirect(orgApplicationPath(deps, access.org, stored.slug), 303);
      return c.html(await formPage(deps, c, access, { values: serverValues(JSON.parse(stored.definition)), errors: [] }, stored.slug));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });

  app.post('/orgs/:org/applications/:slug/edit', async (c) => {
    const posted = await orgForm(deps, c, 'org-applications:update');
    if (posted instanceof Response) return posted;
    const { access, form } = posted;
    const slug = c.req.param('slug');
    const service = orgApplicationService(deps, access.org);
    try {
      const { stored } = await service.get(slug);
      // Over the stored definition; a header value sent back as the mask keeps its stored value.
      await service.update(slug, serverInput({ ...form, slug, kind: 'http' }, JSON.parse(stored.definition) as Record<string, unknown>), access.me.user.id);
      learnTools(deps, slug);
      return c.redirect(`${orgApplicationPath(deps, access.org, slug)}?done=updated`, 303);
    } catch (err) {
      const { state, status } = refusedState(err, { ...form, slug });
      if (status === 404) return refusalPage(deps, c, err);
      const stored = await deps.store.applications.get(slug);
      const masked = stored ? serverValues(JSON.parse(stored.definition)) : {};
      return c.html(await formPage(deps, c, access, { ...state, values: { ...state.values, headers: masked.headers ?? '' } }, slug), status);
    }
  });
}

function deleteRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  app.post('/orgs/:org/applications/:slug/delete', async (c) => {
    const posted = await orgForm(deps, c, 'org-applications:delete');
    if (posted instanceof Response) return posted;
    const { access, form } = posted;
    const slug = c.req.param('slug');
    const service = orgApplicationService(deps, access.org);
    try {
      const { app: application } = await service.get(slug);
      const ask = confirmFirst(deps, c, form, 'org-applications:delete', {
        title: `Delete ${application.name}?`,
        text: `Its MCP URL ${application.resource} stops answering at once; its tool reviews and its self-test go with it. Clients keep their registrations.`,
        button: 'Delete',
        cancel: orgApplicationPath(deps, access.org, slug),
      });
      if (ask) return ask;
      await service.remove(slug, access.me.user.id);
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    return c.redirect(`${orgPath(deps, access.org, 'applications')}?done=deleted`, 303);
  });
}

export function orgApplicationRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  listRoutes(app, deps);
  overviewRoutes(app, deps);
  editRoutes(app, deps);
  deleteRoutes(app, deps);
}
