/**
 * How a service refusal (a 4xx `PortcullisError` from identity/*, api-keys/*) reaches a person on
 * a console page — one way, with its stable code in `data-code` and its field errors listed by
 * path: as a page of its own (`refusalPage`), or above the form that caused it (`formRefusal`,
 * shown with account/layout.ts `problem`). Anything else — an outage, a fault — is rethrown to
 * the error handler that answers those.
 */
import { isRefusal, type ErrorCode, type FieldError } from '../core/errors.ts';
import { html, type Html } from '../web/html.ts';
import type { WebContext, WebDeps } from '../web/pages.ts';
import { errorPage, notFound } from './account/layout.ts';

/** The statuses a page answers a refusal with. */
export type RefusalStatus = 400 | 403 | 404 | 409 | 410;

export interface FormRefusal {
  code: ErrorCode;
  text: string;
  errors: FieldError[];
  status: RefusalStatus;
}

/**
 * The refusal `err` is, as a page shows it; anything else is rethrown. Statuses a page does not
 * answer a refusal with (401, 413 and up) become 400.
 */
export function formRefusal(err: unknown): FormRefusal {
  if (!isRefusal(err)) throw err;
  const status = err.status === 401 || err.status >= 413 ? 400 : (err.status as RefusalStatus);
  return { code: err.code, text: err.message, errors: (err.detail.errors as FieldError[] | undefined) ?? [], status };
}

/** The offending fields of a refusal, by path. */
export function fieldErrorList(errors: readonly FieldError[]): Html {
  return html`<ul data-testid="field-errors">${errors.map((e) => html`<li data-path="${e.path}">${e.path}: ${e.message}</li>`)}</ul>`;
}

/**
 * A refusal as a page with its code. A 404 is the one not-found page (no hint of what exists).
 * `texts` words a code's page for people where the service's message is not enough.
 */
export function refusalPage(deps: WebDeps, c: WebContext, err: unknown, texts: Partial<Record<ErrorCode, { title: string; text: string }>> = {}): Response {
  const refused = formRefusal(err);
  if (refused.status === 404) return notFound(deps, c);
  const worded = texts[refused.code] ?? { title: 'That did not work', text: refused.text };
  return errorPage(deps, c, refused.status, refused.code, worded.title, worded.text, refused.errors.length ? fieldErrorList(refused.errors) : undefined);
}
