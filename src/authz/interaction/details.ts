/**
 * The engine's side of an interaction: the details of the one this browser is in, and the result
 * that resumes the authorization request (303 back to the engine).
 */
import { isUnavailable } from '../../core/errors.ts';
import { contentSecurityPolicy, type WebContext, type WebDeps } from '../../web/pages.ts';

export type Interaction = Awaited<ReturnType<ReturnType<WebDeps['provider']>['interactionDetails']>>;

/** The interaction named in the URL, if it is this browser's and still open. */
export async function loadInteraction(deps: WebDeps, c: WebContext): Promise<Interaction | undefined> {
  try {
    const details = await deps.provider().interactionDetails(c.env.incoming, c.env.outgoing);
    return details.uid === c.req.param('uid') ? details : undefined;
  } catch (err) {
    // No (or an expired) interaction is the person's to restart; an outage is a 503 (web.onError).
    if (isUnavailable(err)) throw err;
    return undefined;
  }
}

/** Hand the result to the engine and send the browser back to resume the request. */
export async function finish(deps: WebDeps, c: WebContext, result: Record<string, unknown>, merge = true) {
  const returnTo = await deps.provider().interactionResult(c.env.incoming, c.env.outgoing, result, { mergeWithLastSubmission: merge });
  return c.redirect(returnTo, 303);
}

/** Where the client will send the user back: a host for web URLs, the scheme for app links. */
export function returnTarget(redirectUri: string): { label: string; csp: string } | undefined {
  const url = URL.parse(redirectUri);
  if (!url) return undefined;
  if (url.protocol === 'http:' || url.protocol === 'https:') return { label: url.host, csp: url.origin };
  return { label: `${url.protocol}//`, csp: url.protocol };
}

/**
 * The page's CSP lets its form lead back to the client: browsers apply form-action to the whole
 * redirect chain a submission starts (web/pages.ts contentSecurityPolicy).
 */
export function allowReturnToClient(c: WebContext, details: Interaction): void {
  const target = returnTarget(String(details.params.redirect_uri ?? ''));
  c.header('content-security-policy', contentSecurityPolicy(target ? [target.csp] : []));
}
