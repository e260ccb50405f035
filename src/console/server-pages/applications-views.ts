/**
 * What the applications pages show (applications.ts routes them): the list with each one's
 * checklist status and why, the "MCP server" form (HTTP URL with headers, or a stdio command with
 * arguments, environment and isolation), an application's overview (its checklist and the
 * self-test's checks),. A refused form comes back with what was typed and
 * each problem beside its field, by the service's field path (`upstream.url`, `ipAllow.0`, …).
 */
import type { FieldError } from '../../core/errors.ts';
import type { LoadedApplication } from '../../applications/service.ts';
import type { StatusReport } from '../../applications/status.ts';
import { isReadOnly, upstreamSummary } from '../../applications/views.ts';
import { html, type Html } from '../../web/html.ts';

/** A form shown again after a refusal, or filled from a stored definition. */
export interface FormState {
  values: Record<string, string>;
  errors: FieldError[];
}

export interface FormParts {
  action: string;
  csrf: Html;
}

const STATUS_LABEL = { not_verified: 'Not verified', needs_review: 'Needs review', live: 'Live' } as const;

const under = (path: string, prefixes: readonly string[]) => prefixes.some((p) => path === p || path.startsWith(`${p}.`));

/** The problems of the fields `paths` (and below them), beside their field. */
export function errorsFor(state: FormState | undefined, ...paths: string[]): Html | '' {
  const found = state?.errors.filter((e) => under(e.path, paths)) ?? [];
  return found.length ? html`<p class="error" role="alert" data-testid="field-error" data-field="${paths[0]}">${found.map((e) => (e.path === paths[0] ? e.message : `${e.path}: ${e.message}`)).join('; ')}</p>` : '';
}

/** The problems of exactly `path` (not below it: `upstream` itself, when no kind of upstream fits). */
function exactErrors(state: FormState | undefined, path: string): Html | '' {
  const found = state?.errors.filter((e) => e.path === path) ?? [];
  return found.length ? html`<p class="error" role="alert" data-testid="field-error" data-field="${path}">${found.map((e) => e.message).join('; ')}</p>` : '';
}

/** The problems no field claims, above the button (none goes unseen). */
export function otherErrors(state: FormState | undefined, claimed: readonly string[]): Html | '' {
  const rest = state?.errors.filter((e) => !under(e.path, claimed)) ?? [];
  return rest.length ? html`<p class="error" role="alert" data-testid="field-error" data-field="(form)">${rest.map((e) => (e.path === '(root)' ? e.message : `${e.path}: ${e.message}`)).join('; ')}</p>` : '';
}

export interface Input {
  name: string;
  label: string;
  /** Error paths shown beside this field (default: its name). */
  paths?: string[];
  multiline?: boolean;
  hint?: string;
  placeholder?: string;
  readonly?: boolean;
}

export function input(state: FormState | undefined, f: Input): Html {
  const value = state?.values[f.name] ?? '';
  const hint = f.hint ? html`<p class="muted" id="${f.name}-hint">${f.hint}</p>` : '';
  const described = f.hint ? html` aria-describedby="${f.name}-hint"` : '';
  const placeholder = f.placeholder ? html` placeholder="${f.placeholder}"` : '';
  const control = f.multiline
    ? html`<textarea id="${f.name}" name="${f.name}" rows="4"${described}${placeholder}>${value}</textarea>`
    : html`<input id="${f.name}" name="${f.name}" type="text" value="${value}"${described}${placeholder}${f.readonly ? html` readonly` : ''}>`;
  return html`<label for="${f.name}">${f.label}</label>${control}${hint}${errorsFor(state, ...(f.paths ?? [f.name]))}`;
}

function statusBadge(status: StatusReport): Html {
  return html`<strong data-testid="status" data-status="${status.status}">${STATUS_LABEL[status.status]}</strong>`;
}

/** The checklist: each step, met or not, and the reason of the first one unmet. */
export function checklist(status: StatusReport): Html {
  const verified = status.status !== 'not_verified';
  const reviewed = status.status === 'live';
  const step = (id: string, met: boolean, label: string, why: string) =>
    html`<li data-testid="step" data-step="${id}" data-met="${String(met)}">${met ? '✓' : '✗'} ${label}${met ? '' : html` — <span data-testid="step-why">${why}</span>`}</li>`;
  return html`<ol class="checklist" data-testid="checklist">
${step('verified', verified, 'Self-test passed for the current definition', status.reason)}
${step('reviewed', reviewed, 'Every tool approved', verified ? `waiting for review: ${status.tools.needsReview.join(', ')}` : 'after the self-test passes')}
</ol>`;
}

export function applicationList(apps: LoadedApplication[], pathOf: (slug: string) => string, newPath: string): Html {
  const rows = apps.map(
    ({ app, stored, status }) => html`<tr data-testid="application" data-slug="${app.slug}"><td><a href="${pathOf(app.slug)}">${app.name}</a><br><code>${app.slug}</code>${isReadOnly(stored.source) ? html`<br><span class="muted">from the server's ${stored.source === 'config' ? 'configuration' : 'code'}</span>` : ''}</td>
<td><code data-testid="mcp-url">${app.resource}</code><br><span class="muted">${upstreamSummary(app)}</span></td>
<td>${statusBadge(status)}<br><span class="muted" data-testid="status-why">${status.reason}</span></td></tr>`,
  );
  return html`<p><a href="${newPath}" data-testid="add-application">Add an MCP server</a></p>
${apps.length ? html`<div class="table-scroll" tabindex="0"><table data-testid="applications"><thead><tr><th>Application</th><th>MCP URL</th><th>Status</th></tr></thead><tbody>${rows}</tbody></table></div>` : html`<p class="muted" data-testid="no-applications">No applications yet.</p>`}`;
}

const SERVER_FIELDS = ['slug', 'name', 'path', 'upstream'];

function kindChoice(state: FormState | undefined, kind: 'http' | 'stdio', label: string): Html {
  const checked = (state?.values.kind ?? 'http') === kind;
  return html`<label class="choice"><input type="radio" name="kind" value="${kind}" id="kind-${kind}"${checked ? html` checked` : ''}> ${label}</label>`;
}

function isolationSelect(state: FormState | undefined): Html {
  const current = state?.values.isolation ?? 'per-user';
  const option = (value: string, label: string) => html`<option value="${value}"${current === value ? html` selected` : ''}>${label}</option>`;
  return html`<label for="isolation">Isolation</label><select id="isolation" name="isolation">${option('per-user', 'One process per user')}${option('shared', 'One process shared by everyone')}</select>${errorsFor(state, 'upstream.isolation')}`;
}

/**
 * The "MCP server" form: add (`editing` false) or edit (slug fixed; secrets shown masked, kept
 * unless replaced). `httpOnly` (an organization's pages): no command choice — only server
 * administrators run a command on the server (applications/service.ts).
 */
export function serverForm(parts: FormParts, state: FormState | undefined, editing: boolean, httpOnly = false): Html {
  if (httpOnly) return httpServerForm(parts, state, editing);
  return html`<form method="post" action="${parts.action}" data-testid="server-form">${parts.csrf}
${input(state, { name: 'slug', label: 'Slug', hint: 'Lowercase letters, digits and dashes; it names the MCP URL and the scopes.', readonly: editing })}
${input(state, { name: 'name', label: 'Name' })}
${input(state, { name: 'path', label: 'Path (optional)', placeholder: '/mcp/<slug>' })}
<fieldset><legend>Where the MCP server runs</legend>${kindChoice(state, 'http', 'HTTP URL')}${kindChoice(state, 'stdio', 'Command (stdio)')}${exactErrors(state, 'upstream')}
<fieldset><legend>HTTP</legend>
${input(state, { name: 'url', label: 'URL', paths: ['upstream.url'], placeholder: 'https://notes.internal/mcp' })}
${input(state, { name: 'headers', label: 'Headers, one "Name: value" a line', paths: ['upstream.headers'], multiline: true, hint: 'Values are secrets: stored, never shown again (******** keeps the stored value).' })}</fieldset>
<fieldset><legend>Command (stdio)</legend>
${input(state, { name: 'command', label: 'Command', paths: ['upstream.command'] })}
${input(state, { name: 'args', label: 'Arguments, one a line', paths: ['upstream.args'], multiline: true })}
${input(state, { name: 'env', label: 'Environment, one NAME=value a line', paths: ['upstream.env'], multiline: true, hint: 'Values are secrets: stored, never shown again (******** keeps the stored value).' })}
${isolationSelect(state)}</fieldset></fieldset>
${otherErrors(state, [...SERVER_FIELDS, 'upstream.url', 'upstream.headers', 'upstream.command', 'upstream.args', 'upstream.env', 'upstream.isolation'])}
<div class="actions"><button class="primary" type="submit">${editing ? 'Save' : 'Add MCP server'}</button></div></form>`;
}

/** The form of an HTTP MCP server only (an organization's applications). */
function httpServerForm(parts: FormParts, state: FormState | undefined, editing: boolean): Html {
  return html`<form method="post" action="${parts.action}" data-testid="server-form">${parts.csrf}<input type="hidden" name="kind" value="http">
${input(state, { name: 'slug', label: 'Slug', hint: 'Lowercase letters, digits and dashes; it names the MCP URL and the scopes.', readonly: editing })}
${input(state, { name: 'name', label: 'Name' })}
${input(state, { name: 'path', label: 'Path (optional)', placeholder: '/mcp/<slug>' })}
<fieldset><legend>Where the MCP server runs (HTTP)</legend>${exactErrors(state, 'upstream')}
${input(state, { name: 'url', label: 'URL', paths: ['upstream.url'], placeholder: 'https://notes.internal/mcp' })}
${input(state, { name: 'headers', label: 'Headers, one "Name: value" a line', paths: ['upstream.headers'], multiline: true, hint: 'Values are secrets: stored, never shown again (******** keeps the stored value).' })}</fieldset>
${otherErrors(state, [...SERVER_FIELDS, 'upstream.url', 'upstream.headers'])}
<div class="actions"><button class="primary" type="submit">${editing ? 'Save' : 'Add MCP server'}</button></div></form>`;
}

/** The self-test's checks as the last run left them. */
export function selfTestChecks(status: StatusReport): Html {
  const test = status.selfTest;
  if (!test) return html`<p class="muted" data-testid="no-self-test">The self-test has not run yet.</p>`;
  const rows = test.checks.map(
    (check) => html`<tr data-testid="check" data-check="${check.name}" data-outcome="${check.outcome}"><td><code>${check.name}</code></td><td>${check.outcome}</td><td>${check.detail}</td></tr>`,
  );
  return html`<p data-testid="self-test" data-passed="${String(test.passed)}">Last run ${new Date(test.ranAt * 1000).toISOString()}: ${test.passed ? 'passed' : 'failed'}${test.current ? '' : ' (the definition has changed since)'}.</p>
<div class="table-scroll" tabindex="0"><table><thead><tr><th>Check</th><th>Outcome</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** The Overview tab: URL, status and checklist, the self-test button and checks, edit and delete (asked to confirm first: console/confirm.ts). */
export function overview(loaded: LoadedApplication, testForm: FormParts, editPath: string, deleteForm: FormParts): Html {
  const { app, stored, status } = loaded;
  const readOnly = isReadOnly(stored.source);
  return html`<dl><dt>MCP URL</dt><dd><code data-testid="mcp-url">${app.resource}</code></dd><dt>Upstream</dt><dd>${upstreamSummary(app)}</dd>
<dt>Status</dt><dd>${statusBadge(status)} <span class="muted" data-testid="status-why">${status.reason}</span></dd></dl>
${checklist(status)}
<h2>Self-test</h2>
<p class="muted">Checks, over this server's public URL as a client would, that the MCP URL refuses requests without a valid token for it and lets a scoped one through. It never runs a tool.</p>
<form method="post" action="${testForm.action}">${testForm.csrf}<button class="primary" type="submit" data-testid="run-self-test">Run the self-test</button></form>
${selfTestChecks(status)}
${readOnly ? html`<p class="muted" data-testid="read-only">Defined in the server's ${stored.source === 'config' ? 'configuration file' : 'code'}; change it there.</p>` : html`<p><a href="${editPath}" data-testid="edit-application">Edit the MCP server</a></p>
<form method="post" action="${deleteForm.action}">${deleteForm.csrf}<button class="danger" type="submit" data-testid="delete-application">Delete…</button></form>`}`;
}

