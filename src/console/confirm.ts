/**
 * One confirmation step for every destructive action of the console, without script (the CSP
 * forbids inline script, and a plain form works by keyboard and screen reader): the action's
 * button posts as before; a post without `confirm=yes` changes nothing and is answered with a
 * page that says what will happen and what goes with it, whose form posts the same fields again
 * with `confirm=yes` and a fresh CSRF token. The server decides, so a stray click, a double
 * submit or a crafted same-site form without the field never acts at once. GET never changes
 * anything (RFC 9110 §9.2.1: safe methods).
 */
import { html, page } from '../web/html.ts';
import { field, type WebContext, type WebDeps } from '../web/pages.ts';
import { csrfField } from './account/layout.ts';

export interface Confirmation {
  /** The question: "Remove Ada from Acme?". */
  title: string;
  /** What happens, and what cascades with it. */
  text: string;
  /** The confirming button's words: "Remove". */
  button: string;
  /** Where "Cancel" goes (the page the action came from). */
  cancel: string;
}

/** The field a confirmed post carries. */
export const CONFIRM_FIELD = 'confirm';

export function isConfirmed(form: Record<string, unknown>): boolean {
  return field(form, CONFIRM_FIELD) === 'yes';
}

/**
 * `undefined` when the post is confirmed (go on), else the confirmation page (status 200: the
 * request was understood, nothing was done). `purpose` is the CSRF purpose of the action's form.
 */
export function confirmFirst(deps: WebDeps, c: WebContext, form: Record<string, unknown>, purpose: string, ask: Confirmation): Response | undefined {
  if (isConfirmed(form)) return undefined;
  const kept = Object.entries(form).filter((entry): entry is [string, string] => entry[0] !== 'csrf' && entry[0] !== CONFIRM_FIELD && typeof entry[1] === 'string');
  const action = new URL(c.req.url).pathname;
  const body = html`<h1 data-testid="confirm-title">${ask.title}</h1>
<p data-testid="confirm-text">${ask.text}</p>
<form method="post" action="${action}" data-testid="confirm-form">
${csrfField(deps, c, purpose)}${kept.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<input type="hidden" name="${CONFIRM_FIELD}" value="yes">
<div class="actions"><button class="danger" type="submit" data-testid="confirm" autofocus>${ask.button}</button><a href="${ask.cancel}" data-testid="cancel">Cancel</a></div>
</form>`;
  return c.html(page({ title: ask.title, base: deps.base, id: 'confirm', body }));
}
