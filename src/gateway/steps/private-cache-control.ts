/**
 * The upstream's `Cache-Control` as the gateway may pass it on. Every answer through the gateway
 * depends on the caller's token (a list filtered for it, a call allowed for it), so no shared
 * cache may store it for anyone else:
 * - `public` goes (RFC 9111 §5.2.2.9): it would let a shared cache store a response to a request
 *   with `Authorization`, which §3.5 otherwise forbids;
 * - `s-maxage` goes (§5.2.2.10): it has the same effect (§3.5) and speaks only to shared caches;
 * - `private` is present, unqualified (§5.2.2.7): a shared cache must not store the response at
 *   all — this also overrides `must-revalidate`, the third directive §3.5 lets through. A
 *   qualified `private="field"` limits only those fields, so it is replaced too.
 * Everything else (`max-age`, `no-cache`, `no-store`, extensions) is the upstream's to say and
 * stays as written: the client's own cache may keep the answer as long as the upstream allows.
 *
 * Not checked: directive syntax beyond splitting at commas outside quoted strings (§5.2).
 */
export function privateCacheControl(value: string): string {
  const kept = directives(value).filter((directive) => !SHARED_ONLY.has(directiveName(directive)));
  return ['private', ...kept].join(', ');
}

const SHARED_ONLY = new Set(['public', 's-maxage', 'private']);

/** The directive's name, lower-cased (names are case-insensitive, RFC 9111 §5.2). */
function directiveName(directive: string): string {
  const equals = directive.indexOf('=');
  return (equals === -1 ? directive : directive.slice(0, equals)).trim().toLowerCase();
}

/** Split a Cache-Control value into its directives: at commas, except inside quoted strings. */
function directives(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}
