/**
 * What the connection doctor (audit/doctor/) needs from the protocol: each client's registrations,
 * authorization requests (with or without `resource` and PKCE, which redirect URI and whether it is
 * registered), codes issued after sign-in and consent, and token requests. Read after the engine
 * answered, so nothing here changes an answer; the recorder only queues. Never a token, a code or
 * a secret: parameters' shapes only.
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { DOCTOR_EVENTS } from '../../audit/doctor/diagnoses.ts';
import type { ConnectionRecorder } from '../../audit/doctor/recorder.ts';
import { ROUTES } from '../protocol.ts';

type Next = () => Promise<void>;
type Body = Record<string, unknown> | undefined;

const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The OAuth error an /authorize request ended in (the engine renders it as a page, not JSON). */
interface EngineError {
  error?: string;
  error_description?: string;
}

export function recordConnectionSteps(provider: Provider, doctor: ConnectionRecorder): void {
  const errors = new WeakMap<object, EngineError>();
  (provider as unknown as NodeJS.EventEmitter).on('authorization.error', (ctx: KoaContextWithOIDC, err: EngineError) => errors.set(ctx, err));
  provider.use(async (ctx: KoaContextWithOIDC, next: Next) => {
    await next();
    try {
      await recordStep(ctx, provider, doctor, errors.get(ctx));
    } catch {
      // Diagnostics never fail a protocol answer.
    }
  });
  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    doctor.record({ kind: DOCTOR_EVENTS.authorized, ok: true, clientId: ctx.oidc.client?.clientId ?? null, userId: ctx.oidc.session?.accountId ?? null, detail: { scope: str(ctx.oidc.params?.scope) } });
  });
}

async function recordStep(ctx: KoaContextWithOIDC, provider: Provider, doctor: ConnectionRecorder, failure: EngineError | undefined): Promise<void> {
  const body = (ctx.body ?? undefined) as Body;
  const ok = ctx.status < 400;
  if (ctx.path === '/.well-known/openid-configuration') doctor.record({ kind: DOCTOR_EVENTS.serverMetadata, ok, detail: { status: ctx.status } });
  else if (ctx.path === ROUTES.registration && ctx.method === 'POST') doctor.record(registration(body, ok, ctx.status));
  else if (ctx.path === ROUTES.authorization) await authorization(ctx, provider, doctor, failure);
  else if (ctx.path === ROUTES.token && ctx.method === 'POST') {
    const params = ctx.oidc?.params ?? {};
    const clientId = ctx.oidc?.client?.clientId ?? str(params.client_id);
    // Whose token it is (the engine loaded the account for a code or refresh grant): the person's own view needs it.
    const userId = str(ctx.oidc?.account?.accountId);
    doctor.record({ kind: DOCTOR_EVENTS.token, ok, clientId, userId, detail: { grantType: str(params.grant_type), resource: str(params.resource), status: ctx.status, error: ok ? null : str(body?.error) } });
  }
}

/** RFC 7591 §3.2.1: the answer describes the client; only what the doctor shows is kept (never the secret). */
function registration(body: Body, ok: boolean, status: number) {
  if (!ok) return { kind: DOCTOR_EVENTS.registered, ok, detail: { status, error: str(body?.error), description: str(body?.error_description) } };
  return {
    kind: DOCTOR_EVENTS.registered,
    ok,
    clientId: str(body?.client_id),
    detail: { clientName: str(body?.client_name), redirectUris: Array.isArray(body?.redirect_uris) ? body.redirect_uris : [], authMethod: str(body?.token_endpoint_auth_method) },
  };
}

/** RFC 6749 §4.1.1 with RFC 7636 §4.3 and RFC 8707 §2: what the client asked for, and whether its redirect URI is registered. */
async function authorization(ctx: KoaContextWithOIDC, provider: Provider, doctor: ConnectionRecorder, failure: EngineError | undefined): Promise<void> {
  const params: Record<string, unknown> = ctx.method === 'POST' ? { ...(ctx.oidc?.params ?? {}) } : Object.fromEntries(new URLSearchParams(ctx.querystring));
  const clientId = str(params.client_id);
  // The PAR and resume legs of the flow carry no client parameters: only first arrivals count.
  if (!clientId || str(params.request_uri)) return;
  const client = await provider.Client.find(clientId).catch(() => undefined);
  const redirectUri = str(params.redirect_uri);
  const registered = client?.redirectUris ?? [];
  // A client id that is a URL names its metadata document (draft-ietf-oauth-client-id-metadata-document):
  // the engine fetched it just now; whether it could use it is a step of its own.
  if (/^https?:\/\//.test(clientId)) {
    doctor.record({ kind: DOCTOR_EVENTS.metadataDocument, ok: client !== undefined, clientId, detail: { url: clientId, error: client ? null : str(failure?.error), description: client ? null : str(failure?.error_description) } });
  }
  doctor.record({
    kind: DOCTOR_EVENTS.authorize,
    ok: failure === undefined && ctx.status < 400 && client !== undefined,
    clientId,
    detail: {
      known: client !== undefined,
      resource: str(params.resource),
      pkce: str(params.code_challenge) !== null,
      scope: str(params.scope),
      redirectUri,
      redirectMatched: client === undefined ? null : redirectUri === null ? registered.length === 1 : registered.includes(redirectUri),
      registeredRedirectUris: registered,
      status: ctx.status,
      error: str(failure?.error),
      description: str(failure?.error_description),
    },
  });
}
