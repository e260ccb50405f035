/**
 * The policy simulator (`/server/simulator`): a server administrator picks a caller — a person, an
 * API key (by id or prefix) or a client acting for itself — an application, a tool and its
 * arguments, and reads whether the gateway would let the call through, and if not the rule that
 * decided and why (simulation.ts: the gateway's own rules and caller). A refused input (no such
 * person, arguments that are not a JSON object) shows beside the form. A GET with the form's fields
 * in its query prefills the form (the audit trail's "Run in the simulator" links: audit-explanation.ts).
 */
import { isRefusal } from '../../core/errors.ts';
import { html, type Html } from '../../web/html.ts';
import { clientIp, type WebContext } from '../../web/pages.ts';
import { csrfField, problem } from '../account/layout.ts';
import { serverAccess, serverForm, serverPage, serverPath, type ServerPagesDeps, type ServerRoutes } from './access.ts';
import { CALLER_KINDS, simulate, type CallerKind, type Simulation, type SimulationInput } from './simulation.ts';

const PURPOSE = 'server:simulator';

function inputOf(form: Record<string, string | File>, fallbackIp: string): SimulationInput {
  const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '');
  const minutes = Number(field('minutes'));
  const as = CALLER_KINDS.find((kind) => kind === field('as')) ?? 'person';
  return {
    as,
    email: field('email'),
    key: field('key'),
    client: field('client'),
    appSlug: field('app'),
    tool: field('tool').trim(),
    args: field('args'),
    scopes: field('scopes'),
    signedInMinutesAgo: Number.isFinite(minutes) && minutes >= 0 ? minutes : 0,
    mfa: field('mfa') === 'on',
    ip: field('ip').trim() || fallbackIp,
  };
}

const CALLER_LABELS: Record<CallerKind, string> = { person: 'A person (their access token)', key: 'An API key', client: 'A client acting for itself (client credentials)' };

/** Who calls: one radio per kind, each with its field (only the chosen one is read). */
function callerFields(v: SimulationInput): Html {
  const choice = (kind: CallerKind) => html`<label class="choice"><input type="radio" name="as" value="${kind}" id="as-${kind}"${v.as === kind ? html` checked` : ''}> ${CALLER_LABELS[kind]}</label>`;
  return html`<fieldset><legend>Caller</legend>${CALLER_KINDS.map(choice)}
<label for="email">Person (e-mail address)</label><input type="text" id="email" name="email" value="${v.email}" autocomplete="off">
<label for="key">API key (its id or prefix; never the secret)</label><input type="text" id="key" name="key" value="${v.key}" autocomplete="off">
<label for="client">Client id</label><input type="text" id="client" name="client" value="${v.client}" autocomplete="off">
</fieldset>`;
}

function form(deps: ServerPagesDeps, c: WebContext, v: SimulationInput): Html {
  const apps = deps.gateway.registry.list();
  return html`<form method="post" action="${serverPath(deps, 'simulator')}" data-testid="simulator-form">${csrfField(deps, c, PURPOSE)}
${callerFields(v)}
<label for="app">Application</label><select id="app" name="app">${apps.map((a) => html`<option value="${a.slug}"${a.slug === v.appSlug ? html` selected` : ''}>${a.name}</option>`)}</select>
<label for="tool">Tool</label><input type="text" id="tool" name="tool" value="${v.tool}" required>
<label for="args">Arguments (JSON object)</label><textarea id="args" name="args" rows="3" spellcheck="false">${v.args}</textarea>
<label for="scopes">Scopes (a person’s token: what it carries, empty: all the application’s; a client: what it asks for, empty: all it is allowed; a key: not used)</label><input type="text" id="scopes" name="scopes" value="${v.scopes}">
<label for="minutes">A person: signed in how many minutes ago</label><input type="text" inputmode="numeric" id="minutes" name="minutes" value="${String(v.signedInMinutesAgo)}">
<label><input type="checkbox" name="mfa"${v.mfa ? html` checked` : ''}> A person: signed in with a second factor</label>
<label for="ip">Calling from (IP address)</label><input type="text" id="ip" name="ip" value="${v.ip}" required>
<button type="submit">Simulate</button>
</form>`;
}

function result(deps: ServerPagesDeps, s: Simulation, tool: string): Html {
  const d = s.decision;
  if (d.allow) return html`<p class="notice" role="status" data-testid="decision" data-allow="true">Allowed: the gateway would pass <code>${tool}</code> of ${s.app.name} to the application.</p>`;
  const why = Object.entries(d.detail);
  const stage = 'stage' in d ? 'authentication' : 'policy';
  const by = stage === 'authentication' ? html`the credential check <code>${d.rule}</code>, before any rule` : html`the rule <code>${d.rule}</code>`;
  return html`<div class="error" role="alert" data-testid="decision" data-allow="false" data-code="${d.code}" data-rule="${d.rule}" data-stage="${stage}">
<p>Denied: <strong>${d.code}</strong> by ${by}. <a href="${deps.base}/docs/denials#${d.code}">What the client receives</a></p>
${why.length ? html`<ul data-testid="decision-why">${why.map(([k, val]) => html`<li>${k}: <code>${val}</code></li>`)}</ul>` : ''}
</div>`;
}

export const simulatorRoutes: ServerRoutes = (app, deps) => {
  app.get('/server/simulator', async (c) => {
    const me = await serverAccess(deps, c);
    if (me instanceof Response) return me;
    // Prefilled from the query (links from the audit trail); nothing runs until the form is sent.
    return c.html(await serverPage(deps, c, me, 'simulator', form(deps, c, inputOf(c.req.query(), clientIp(deps, c)))));
  });
  app.post('/server/simulator', async (c) => {
    const posted = await serverForm(deps, c, PURPOSE);
    if (posted instanceof Response) return posted;
    const input = inputOf(posted.form, clientIp(deps, c));
    try {
      const s = await simulate(deps, input);
      return c.html(await serverPage(deps, c, posted.me, 'simulator', html`${result(deps, s, input.tool)}${form(deps, c, input)}`));
    } catch (err) {
      if (!isRefusal(err)) throw err;
      return c.html(await serverPage(deps, c, posted.me, 'simulator', html`${problem(err.code, err.message)}${form(deps, c, input)}`), 400);
    }
  });
};
