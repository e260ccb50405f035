/**
 * `/server/clients`: every OAuth client — pre-registered, dynamically registered (RFC 7591) and
 * metadata-document clients — with its kind, last use and how many people connected; one client's
 * metadata; registering a public or confidential client (its secret shown once); rotating the
 * secret (the old one stops working at once) and deleting, each after a confirmation page. Every
 * change goes through clients/service.ts, as the admin API's `/clients` routes do (it audits).
 */
import type { Hono } from 'hono';
import { clientServiceDeps, getClient, listClients, registerClient, removeClient, rotateClientSecret, type ClientServiceDeps } from '../../clients/service.ts';
import type { FieldError } from '../../core/errors.ts';
import { html, type Html } from '../../web/html.ts';
import { field, type WebContext, type WebEnv } from '../../web/pages.ts';
import type { SignedIn } from '../../web/session.ts';
import { notice } from '../account/layout.ts';
import { confirmFirst } from '../confirm.ts';
import { formRefusal, refusalPage } from '../refusals.ts';
import { serverAccess, serverForm, serverPage, serverPath, type ServerPagesDeps } from './access.ts';
import { clientActions, clientDetails, clientPath, clientTable, EMPTY_FORM, registerForm, secretShown, type ClientFormValues } from './clients-views.ts';

type Form = Record<string, string | File>;

/** Checkbox values of the fields named `<prefix><n>` (each box has its own name: the body parser keeps one value per name). */
function ticked(form: Form, prefix: string): string[] {
  return Object.entries(form)
    .filter(([name, value]) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)) && typeof value === 'string')
    .map(([, value]) => value as string);
}

function formValues(form: Form): ClientFormValues {
  return {
    name: field(form, 'name'),
    tokenEndpointAuthMethod: field(form, 'tokenEndpointAuthMethod'),
    jwksUri: field(form, 'jwksUri').trim(),
    redirectUris: field(form, 'redirectUris'),
    grants: ticked(form, 'grant'),
    applications: ticked(form, 'application'),
    scopes: field(form, 'scopes'),
  };
}

/** The form as the service's input (clients/input.ts), the same shape the admin API takes. */
function inputOf(values: ClientFormValues): Record<string, unknown> {
  const lines = (text: string, split: RegExp) => text.split(split).map((s) => s.trim()).filter(Boolean);
  return {
    name: values.name,
    tokenEndpointAuthMethod: values.tokenEndpointAuthMethod || undefined,
    ...(values.jwksUri ? { jwksUri: values.jwksUri } : {}),
    redirectUris: lines(values.redirectUris, /\r?\n/),
    grants: values.grants,
    applications: values.applications,
    scopes: lines(values.scopes, /\s+/),
  };
}

async function listPage(deps: ServerPagesDeps, c: WebContext, service: ClientServiceDeps, me: SignedIn, values = EMPTY_FORM, errors: FieldError[] = []): Promise<string> {
  const applications = deps.resources.list().map((r): [string, string] => [r.url, r.name]);
  const body = html`${notice(c, { deleted: 'The client was deleted: it can no longer authenticate, refresh or start a sign-in.' })}
${clientTable(deps, await listClients(service))}
${registerForm(deps, c, applications, values, errors)}`;
  return serverPage(deps, c, me, 'clients', body);
}

async function clientPage(deps: ServerPagesDeps, c: WebContext, me: SignedIn, service: ClientServiceDeps, clientId: string, extra?: Html): Promise<string> {
  const client = await getClient(service, clientId);
  const body = html`${extra ?? ''}${clientDetails(client)}${clientActions(deps, c, client)}<p><a href="${serverPath(deps, 'clients')}">All clients</a></p>`;
  return serverPage(deps, c, me, 'clients', body, client.name ?? client.clientId);
}

function readRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps, service: ClientServiceDeps): void {
  app.get('/server/clients', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    return c.html(await listPage(deps, c, service, me));
  });
  app.get('/server/clients/:id', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    try {
      return c.html(await clientPage(deps, c, me, service, c.req.param('id')));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });
}

function registerRoute(app: Hono<WebEnv>, deps: ServerPagesDeps, service: ClientServiceDeps): void {
  app.post('/server/clients', async (c) => {
    const posted = await serverForm(deps, c, 'server:clients:register');
    if (posted instanceof Response) return posted;
    const values = formValues(posted.form);
    let registered;
    try {
      registered = await registerClient(service, inputOf(values), posted.me.user.id);
    } catch (err) {
      const refusal = formRefusal(err);
      const errors = refusal.errors.length ? refusal.errors : [{ path: '(form)', message: refusal.text }];
      return c.html(await listPage(deps, c, service, posted.me, values, errors), refusal.status);
    }
    const shown = html`<p class="notice" role="status" data-testid="notice" data-code="registered">The client was registered.</p>${registered.secret ? secretShown(registered.secret) : ''}`;
    return c.html(await clientPage(deps, c, posted.me, service, registered.client.clientId, shown));
  });
}

function changeRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps, service: ClientServiceDeps): void {
  app.post('/server/clients/:id/rotate', async (c) => {
    const posted = await serverForm(deps, c, 'server:clients:rotate');
    if (posted instanceof Response) return posted;
    const id = c.req.param('id');
    try {
      const client = await getClient(service, id);
      const ask = confirmFirst(deps, c, posted.form, 'server:clients:rotate', {
        title: `Rotate the secret of ${client.name ?? id}?`,
        text: 'A new secret is made and shown once; the current secret stops working at once, so the client fails until its configuration has the new one.',
        button: 'Rotate the secret',
        cancel: clientPath(deps, id),
      });
      if (ask) return ask;
      const { secret } = await rotateClientSecret(service, id, posted.me.user.id);
      const shown = html`<p class="notice" role="status" data-testid="notice" data-code="rotated">The secret was rotated: the old one no longer works.</p>${secretShown(secret)}`;
      return c.html(await clientPage(deps, c, posted.me, service, id, shown));
    } catch (err) {
      return refusalPage(deps, c, err);
    }
  });
  app.post('/server/clients/:id/delete', async (c) => {
    const posted = await serverForm(deps, c, 'server:clients:delete');
    if (posted instanceof Response) return posted;
    const id = c.req.param('id');
    try {
      const client = await getClient(service, id);
      const ask = confirmFirst(deps, c, posted.form, 'server:clients:delete', {
        title: `Delete ${client.name ?? id}?`,
        text: `It can no longer authenticate, refresh tokens or start a sign-in; ${client.people} ${client.people === 1 ? 'person loses' : 'people lose'} their connection at the next refresh. Access tokens already issued work until they expire.`,
        button: 'Delete',
        cancel: clientPath(deps, id),
      });
      if (ask) return ask;
      await removeClient(service, id, posted.me.user.id);
    } catch (err) {
      return refusalPage(deps, c, err);
    }
    return c.redirect(`${serverPath(deps, 'clients')}?done=deleted`, 303);
  });
}

export function clientRoutes(app: Hono<WebEnv>, deps: ServerPagesDeps): void {
  const service = clientServiceDeps(deps);
  readRoutes(app, deps, service);
  registerRoute(app, deps, service);
  changeRoutes(app, deps, service);
}
