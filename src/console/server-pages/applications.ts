/**
 * `/server/applications`: the protected MCP servers — the list with each one's checklist status
 * (Not verified → Needs review → Live) and why, adding one (an HTTP URL with headers, or a stdio
 * command), an application's Overview tab (its checklist, the self-test as a button), editing and
 * deleting it (after a confirmation page). Every change goes through applications/service.ts and
 * the self-test through applications/status.ts — what the admin API calls — so a page refuses
 * exactly what the API refuses, with the same codes and field paths, and it is on the record the same way.
 */
import type { Hono } from 'hono';
import type { ApplicationService } from '../../applications/service.ts';
import { selfTestStored } from '../../applications/status.ts';
import { isReadOnly } from '../../applications/views.ts';
import { notice } from '../account/layout.ts';
import { confirmFirst } from '../confirm.ts';
import { applicationPage, formParts, NOTICES, pagesService, refusedState } from './application-frame.ts';
import { applicationConditionRoutes } from './application-conditions.ts';
import { applicationConnectRoutes } from './application-connect.ts';
import { refusalPage } from '../refusals.ts';
import { html } from '../../web/html.ts';
import type { WebContext, WebEnv } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import { serverAccess, serverForm, serverPage, serverPath, type ServerPagesDeps } from './access.ts';
import { applicationPath, applicationTabs } from './application-tabs.ts';
import { serverInput, serverValues } from './application-input.ts';
import { applicationList, overview, serverForm as serverFormView, type FormState } from './applications-views.ts';

/** Learn the tools now rather than at the first client's tools/list (in the background, as the admin API does). */
function learnTools(deps: ServerPagesDeps, slug: string): void {
  const app = deps.gateway.registry.get(slug);
  if (app) void deps.gateway.refreshManifest(app).catch((err: unknown) => deps.log.warn({ err, app: slug }, 'could not list the upstream tools'));
}

function newPage(deps: ServerPagesDeps, c: WebContext, me: SignedIn, state?: FormState): Promise<string> {
  const parts = formParts(deps, c, serverPath(deps, 'applications', '/new'), 'applications:create');
  return serverPage(deps, c, me, 'applications', serverFormView(parts, state, false), 'Add an MCP server');
}

function editPage(deps: ServerPagesDeps, c: WebContext, me: SignedIn, slug: string, name: string, state: FormState): Promise<string> {
  const parts = formParts(deps, c, applicationPath(deps, slug, 'overview') + '/edit', 'applications:update');
  return serverPage(deps, c, me, 'applications', html`${applicationTabs(deps, slug, 'overview')}${serverFormView(parts, state, true)}`, `Edit ${name}`);
}

function listRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps, service: ApplicationService): void {
  app.get('/server/applications', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const apps = await service.list();
    const body = html`${notice(c, NOTICES)}${applicationList(apps, (slug) => applicationPath(deps, slug), serverPath(deps, 'applications', '/new'))}`;
    return c.html(await serverPage(deps, c, me, 'applications', body));
  });

  app.get('/server/applications/new', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    return c.html(await newPage(deps, c, me));
  });

  app.post('/server/applications/new', async (c) => {
    const posted = await serverForm(deps, c, 'applications:create');
    if (posted instanceof Response) return posted;
    try {
      const created = await service.create(serverInput(posted.form), posted.me.user.id);
      learnTools(deps, created.app.slug);
      return c.redirect(`${applicationPath(deps, created.app.slug)}?done=created`, 303);
    } catch (err) {
      const { state, status } = refusedState(err, posted.form);
      // Secrets typed are never sent back to the browser: header and environment values are typed again.
      return c.html(await newPage(deps, c, posted.me, { ...state, values: { ...state.values, headers: '', env: '' } }), status);
    }
  });
}

function overviewRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps, service: ApplicationService): void {
  app.get('/server/applications/:slug', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    const slug = c.req.param('slug');
    try {
      const loaded = await service.get(slug);
      const base = applicationPath(deps, slug);
      const body = overview(loaded, formParts(deps, c, `${base}/test`, 'applications:test'), `${base}/edit`, formParts(deps, c, `${base}/delete`, 'applications:delete'));
      return c.html(await applicationPage(deps, c, me, loaded.app.name, slug, 'overview', body));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });

  app.post('/server/applications/:slug/test', async (c) => {
    const posted = await serverForm(deps, c, 'applications:test');
    if (posted instanceof Response) return posted;
    const slug = c.req.param('slug');
    try {
      await service.get(slug);
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    const result = await selfTestStored(deps.store, slug, { issuer: deps.config.publicUrl, signingKey: deps.signingKey, now: deps.now });
    deps.log.info({ event: 'admin.application.self_test', app: slug, passed: result?.passed, by: posted.me.user.id }, 'self-test ran');
    return c.redirect(`${applicationPath(deps, slug)}?done=tested`, 303);
  });
}

function editRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps, service: ApplicationService): void {
  app.get('/server/applications/:slug/edit', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    try {
      const { stored, app: application } = await service.get(c.req.param('slug'));
      if (isReadOnly(stored.source)) return c.redirect(applicationPath(deps, stored.slug), 303);
      return c.html(await editPage(deps, c, me, stored.slug, application.name, { values: serverValues(JSON.parse(stored.definition)), errors: [] }));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });

  app.post('/server/applications/:slug/edit', async (c) => {
    const posted = await serverForm(deps, c, 'applications:update');
    if (posted instanceof Response) return posted;
    const slug = c.req.param('slug');
    try {
      const { stored } = await service.get(slug);
      // Over the stored definition (what the form does not show stays); a header or environment
      // value sent back as the mask keeps its stored value (the service's restoreMasked).
      const input = serverInput({ ...posted.form, slug }, JSON.parse(stored.definition) as Record<string, unknown>);
      await service.update(slug, input, posted.me.user.id);
      learnTools(deps, slug);
      return c.redirect(`${applicationPath(deps, slug)}?done=updated`, 303);
    } catch (err) {
      const { state, status } = refusedState(err, { ...posted.form, slug });
      if (status === 404) return refusalPage(deps, c, err);
      // Secrets typed are never sent back: the stored ones are shown masked again (a new value is typed again).
      const stored = await deps.store.applications.get(slug);
      const masked = stored ? serverValues(JSON.parse(stored.definition)) : {};
      return c.html(await editPage(deps, c, posted.me, slug, slug, { ...state, values: { ...state.values, headers: masked.headers ?? '', env: masked.env ?? '' } }), status);
    }
  });
}

function deleteRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps, service: ApplicationService): void {
  app.post('/server/applications/:slug/delete', async (c) => {
    const posted = await serverForm(deps, c, 'applications:delete');
    if (posted instanceof Response) return posted;
    const slug = c.req.param('slug');
    try {
      const { app: application } = await service.get(slug);
      const ask = confirmFirst(deps, c, posted.form, 'applications:delete', {
        title: `Delete ${application.name}?`,
        text: `Its MCP URL ${application.resource} stops answering at once; its tool reviews and its self-test go with it. Clients keep their registrations.`,
        button: 'Delete',
        cancel: applicationPath(deps, slug),
      });
      if (ask) return ask;
      await service.remove(slug, posted.me.user.id);
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    return c.redirect(`${serverPath(deps, 'applications')}?done=deleted`, 303);
  });
}

export function applicationRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  const service = pagesService(deps);
  listRoutes(app, deps, service);
  overviewRoutes(app, deps, service);
  editRoutes(app, deps, service);
  deleteRoutes(app, deps, service);
  applicationConditionRoutes(app, deps);
  applicationConnectRoutes(app, deps);
}
