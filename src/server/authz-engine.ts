/**
 * Holds the current protocol engine and rebuilds it when the signing keys change: oidc-provider
 * reads its keys once, at construction, so `portcullis keys rotate` (run in any process) is
 * noticed by polling the key-ring fingerprint and answered with a fresh engine. In-flight
 * interactions survive, because all their state is in the Store.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLocalJWKSet, importJWK, type JWTVerifyGetKey } from 'jose';
import type Provider from 'oidc-provider';
import { buildProvider, type AuthzDeps } from '../authz/provider.ts';
import { keyRingVersion, loadKeyRing, type KeyRing } from '../signing-keys/key-ring.ts';

export interface EngineOptions extends Omit<AuthzDeps, 'keyRing'> {
  /** How long a retired key stays published. */
  keyRetention: number;
  /** Told of every successful token endpoint answer, with its grant type (metrics). */
  onTokenIssued?(grantType: string): void;
}

export class AuthzEngine {
  readonly #options: EngineOptions;
  #provider!: Provider;
  #callback!: (req: IncomingMessage, res: ServerResponse) => void;
  #keys!: KeyRing;
  #localKeys!: JWTVerifyGetKey;
  #signing: Promise<{ key: CryptoKey; kid: string }> | undefined;
  #timer: NodeJS.Timeout | undefined;

  private constructor(options: EngineOptions) {
    this.#options = options;
  }

  static async create(options: EngineOptions): Promise<AuthzEngine> {
    const engine = new AuthzEngine(options);
    await engine.reload();
    return engine;
  }

  async reload(): Promise<void> {
    const { store, secrets, now } = this.#options;
    const keyRing = await loadKeyRing(store, secrets.dataKey, now(), this.#options.keyRetention);
    const provider = buildProvider({ ...this.#options, keyRing });
    const { onTokenIssued } = this.#options;
    // oidc-provider emits `grant.success` once a grant type's handler has answered (lib/actions/token.js).
    if (onTokenIssued) provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => onTokenIssued(String(ctx.oidc.params?.grant_type)));
    this.#keys = keyRing;
    this.#localKeys = createLocalJWKSet({ keys: keyRing.publicJwks });
    this.#provider = provider;
    this.#callback = provider.callback();
    this.#signing = undefined;
  }

  /** The active signing key, for tokens we mint ourselves (the gateway's upstream tokens). */
  signingKey(): Promise<{ key: CryptoKey; kid: string }> {
    const jwk = this.#keys.privateJwks[0]!;
    this.#signing ??= importJWK(jwk, 'ES256').then((key) => ({ key: key as CryptoKey, kid: String(jwk.kid) }));
    return this.#signing;
  }

  /** Poll for key changes made by other processes (and by `keys rotate`). */
  watchKeys(intervalMs = 2000): void {
    this.#timer = setInterval(() => {
      void keyRingVersion(this.#options.store)
        .then((version) => (version !== this.#keys.version ? this.reload() : undefined))
        .catch((err) => this.#options.log.warn({ err }, 'could not check signing keys'));
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  get provider(): Provider {
    return this.#provider;
  }

  get keyRing(): KeyRing {
    return this.#keys;
  }

  /** Key resolver for verifying our own tokens in-process (no HTTP round trip to the JWKS). */
  readonly verificationKeys: JWTVerifyGetKey = (header, token) => this.#localKeys(header, token);

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#callback(req, res);
  }
}
