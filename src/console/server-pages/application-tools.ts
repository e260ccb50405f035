/**
 * `/server/applications/<slug>/tools`: an application's tool manifest and its review (drawn by
 * application-tools-views.ts). Approve and send back to review go through applications/service.ts
 * `review` — what the admin API's `/applications/:slug/tools/:name/approve|reject` calls — always
 * with the fingerprint of the version the page showed, so a tool that changed upstream in between
 * is refused `tool_changed` and the page shows the new version to review instead. A tool's scope
 * is part of the application's definition (`tools.<name>.scope`) and is saved through the
 * service's `update`, as a definition edit through the API is. Tool names travel in the form, not
 * the path: MCP does not promise a name free of `/`.
 */
import type { Hono } from 'hono';
import { applicationService, type ApplicationService } from '../../applications/service.ts';
import { isReadOnly } from '../../applications/views.ts';
import { PortcullisError } from '../../core/errors.ts';
import { confirmFirst } from '../confirm.ts';
import { notice, problem } from '../account/layout.ts';
import { formRefusal, refusalPage } from '../refusals.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebEnv } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import { serverAccess, serverForm, serverPage, type ServerPagesDeps } from './access.ts';
import { applicationPath, applicationTabs } from './application-tabs.ts';
import { toolsTab } from './application-tools-views.ts';

type Form = Record<string, string | File>;

const NOTICES = {
  approved: 'The tool was approved in the version shown. Clients whose token has its scope see it now.',
  rejected: 'The tool was sent back to review. Clients no longer see it or reach it.',
  scope_set: 'The scope was saved. It applies to calls from now on; tokens without it are refused the tool.',
  refreshed: 'The MCP server was asked for its tools again.',
};

async function toolsPage(deps: ServerPagesDeps, c: WebContext, me: SignedIn, service: ApplicationService, slug: string, shown: Html | '' = ''): Promise<string> {
  const { loaded, tools } = await service.tools(slug);
  const forms = { deps, c, base: applicationPath(deps, slug, 'tools'), readOnly: isReadOnly(loaded.stored.source) };
  const body = html`${applicationTabs(deps, slug, 'tools')}${notice(c, NOTICES)}${shown}${toolsTab(forms, loaded.app, tools)}`;
  return serverPage(deps, c, me, 'applications', body, `${loaded.app.name}: tools`);
}

/** The tool a form names, with the fingerprint of the version it showed (a review always names one). */
function reviewed(form: Form): { name: string; fingerprint: string } {
  const name = field(form, 'name');
  const fingerprint = field(form, 'fingerprint');
  if (!fingerprint) throw new PortcullisError('invalid_request', 'an approval names the version reviewed', { detail: { errors: [{ path: 'fingerprint', message: 'required' }] } });
  return { name, fingerprint };
}

/** The definition with `name`'s scope set (or, for '', back to its annotation default). Also the org pages' (org-pages/applications.ts). */
export function withScope(definition: Record<string, unknown>, name: string, scope: string): Record<string, unknown> {
  const tools = { ...((definition.tools as Record<string, Record<string, unknown>> | undefined) ?? {}) };
  const rule = { ...(tools[name] ?? {}) };
  if (scope) rule.scope = scope;
  else delete rule.scope;
  if (Object.keys(rule).length) tools[name] = rule;
  else delete tools[name];
  return { ...definition, tools };
}

type Action = (form: Form, slug: string, me: SignedIn) => Promise<string>;

/**
 * One POST of the tab: a server administrator's CSRF'd form, the action, back to the tab with its
 * notice. A tool that changed since the page was drawn gets the tab again (409) with the new
 * version to review; any other refusal its page.
 */
function toolAction(app: Hono<WebEnv>, deps: ServerPagesDeps, service: ApplicationService, what: string, act: Action, confirm?: (form: Form, slug: string) => Parameters<typeof confirmFirst>[4]): void {
  const purpose = `server:tools:${what}`;
  app.post(`/server/applications/:slug/tools/${what}`, async (c) => {
    const posted = await serverForm(deps, c, purpose);
    if (posted instanceof Response) return posted;
    const slug = c.req.param('slug');
    const ask = confirm && confirmFirst(deps, c, posted.form, purpose, confirm(posted.form, slug));
    if (ask) return ask;
    try {
      const done = await act(posted.form, slug, posted.me);
      return c.redirect(`${applicationPath(deps, slug, 'tools')}?done=${done}`, 303);
    } catch (err) {
      if (!(err instanceof PortcullisError && err.code === 'tool_changed')) return refusalPage(deps, c, err);
      const refused = formRefusal(err);
      const text = `${field(posted.form, 'name')} changed at the MCP server since this page was drawn, so the version you approved is not the one listed now. Review it again below.`;
      return c.html(await toolsPage(deps, c, posted.me, service, slug, problem(refused.code, text)), refused.status);
    }
  });
}

export function applicationToolRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  const service = applicationService({ store: deps.store, publicUrl: deps.config.publicUrl, now: deps.now, changed: () => deps.gateway.registry.reload(), audit: deps.audit });

  app.get('/server/applications/:slug/tools', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    try {
      return c.html(await toolsPage(deps, c, me, service, c.req.param('slug')));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });

  // The reviewer's e-mail is shown with the tool (as the admin API shows its key's label); the id goes on the record.
  toolAction(app, deps, service, 'approve', async (form, slug, me) => {
    const { name, fingerprint } = reviewed(form);
    await service.review(slug, name, 'approved', me.user.email, fingerprint, me.user.id);
    return 'approved';
  });

  const rejecting = (form: Form, slug: string) => ({
    title: `Send ${field(form, 'name')} back to review?`,
    text: 'Clients stop seeing the tool at once and calls to it are refused until it is approved again.',
    button: 'Send back to review',
    cancel: applicationPath(deps, slug, 'tools'),
  });
  toolAction(app, deps, service, 'reject', async (form, slug, me) => {
    const { name, fingerprint } = reviewed(form);
    await service.review(slug, name, 'needs_review', me.user.email, fingerprint, me.user.id);
    return 'rejected';
  }, rejecting);

  toolAction(app, deps, service, 'scope', async (form, slug, me) => {
    const { loaded, tools } = await service.tools(slug);
    const name = field(form, 'name');
    if (!tools.some((t) => t.name === name)) throw new PortcullisError('not_found', `no tool ${name}`);
    // The service validates the scope (one of the application's: `tools.<name>.scope`) and refuses config and built-in applications.
    await service.update(slug, withScope(JSON.parse(loaded.stored.definition) as Record<string, unknown>, name, field(form, 'scope')), me.user.id);
    return 'scope_set';
  });

  toolAction(app, deps, service, 'refresh', async (_form, slug) => {
    await service.get(slug);
    const served = deps.gateway.registry.get(slug);
    if (!served) throw new PortcullisError('not_found', `${slug} is not served by this process yet`);
    await deps.gateway.refreshManifest(served);
    return 'refreshed';
  });
}
