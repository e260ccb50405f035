/**
 * Between an application's forms and its definition (core/application.ts): the fields of the
 * "Add / edit an MCP server" and "Conditions" forms as the definition the admin API takes — no
 * rules of their own, the service validates them, so a page refuses exactly what the API refuses
 * (same codes, same field paths) — and a stored definition back as the values of those forms,
 * header and environment values masked (applications/views.ts MASK: set here, never read back).
 */
import { field } from '../../web/pages.ts';
import { maskDefinition } from '../../applications/views.ts';
import { PortcullisError } from '../../core/errors.ts';
import { toolRulesInput, toolRuleValues } from './tool-rule-fields.ts';

type Form = Record<string, string | File>;
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const lines = (value: string) => value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);

/**
 * "Name: value" (headers) or "NAME=value" (environment) lines as a map. A line without the
 * separator maps to "" so the schema or the upstream, not this parser, decides about it.
 */
export function pairs(value: string, separator: ':' | '='): Record<string, string> {
  return Object.fromEntries(
    lines(value).map((line) => {
      const at = line.indexOf(separator);
      return at < 0 ? [line, ''] : [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    }),
  );
}

function showPairs(values: unknown, separator: ': ' | '='): string {
  return isObject(values) ? Object.entries(values).map(([k, v]) => `${k}${separator}${String(v)}`).join('\n') : '';
}

/** The upstream the form describes; `before` (the stored one, same kind) keeps the settings the form does not show. */
function upstreamInput(form: Form, before: Json): Json {
  const v = (name: string) => field(form, name).trim();
  if (field(form, 'kind') === 'stdio') {
    const kept = 'command' in before ? before : {};
    return { ...kept, command: v('command'), args: lines(field(form, 'args')), env: pairs(field(form, 'env'), '='), isolation: v('isolation') || 'per-user' };
  }
  const kept = 'url' in before ? before : {};
  const headers = pairs(field(form, 'headers'), ':');
  return { ...kept, url: v('url'), headers: Object.keys(headers).length ? headers : undefined };
}

/** The definition the "MCP server" form describes, over `stored` (the current definition when editing). */
export function serverInput(form: Form, stored: Json = {}): Json {
  const v = (name: string) => field(form, name).trim();
  const before = isObject(stored.upstream) ? stored.upstream : {};
  return { ...stored, slug: v('slug') || stored.slug, name: v('name'), path: v('path') || undefined, upstream: upstreamInput(form, before) };
}

/** The "MCP server" form's values for a stored definition (secrets masked). */
export function serverValues(definition: unknown): Record<string, string> {
  const masked = maskDefinition(definition);
  if (!isObject(masked)) return {};
  const up = isObject(masked.upstream) ? masked.upstream : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return {
    slug: text(masked.slug),
    name: text(masked.name),
    path: text(masked.path),
    kind: 'command' in up ? 'stdio' : 'http',
    url: text(up.url),
    headers: showPairs(up.headers, ': '),
    command: text(up.command),
    args: Array.isArray(up.args) ? up.args.map(String).join('\n') : '',
    env: showPairs(up.env, '='),
    isolation: text(up.isolation) || 'per-user',
  };
}

/**
 * A time window line: "09:00-17:30 Europe/Paris 1,2,3,4,5" — the hours, then optionally the IANA
 * time zone and the days (0 = Sunday). Parts it cannot place go to `from`, where the schema names them.
 */
export function timeWindowInput(line: string): Json {
  const [hours = '', ...rest] = line.split(/\s+/);
  const [from = hours, to = ''] = hours.split('-');
  const days = rest.find((p) => /^[\d,]+$/.test(p));
  const timeZone = rest.find((p) => p !== days);
  return { from, to, ...(timeZone ? { timeZone } : {}), ...(days ? { days: days.split(',').filter(Boolean).map(Number) } : {}) };
}

function showTimeWindow(window: unknown): string {
  if (!isObject(window)) return '';
  const days = Array.isArray(window.days) ? ` ${window.days.join(',')}` : '';
  return `${String(window.from)}-${String(window.to)} ${typeof window.timeZone === 'string' ? window.timeZone : 'UTC'}${days}`;
}

/**
 * Tool rules are written as JSON (their shape is the schema's `tools`: scope, stepUp {maxAge, mfa},
 * arguments, ipAllow, timeWindows); text that is not JSON is refused at `tools`, the path the
 * service would name for a wrong shape.
 */
function toolsInput(text: string): unknown {
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    const message = 'expected JSON: {"tool-name": {"stepUp": {"maxAge": "5m", "mfa": true}}}';
    throw new PortcullisError('invalid_request', 'invalid application definition', { detail: { errors: [{ path: 'tools', message }] } });
  }
}

/** The definition with the "Conditions" form's IP ranges, time windows and tool rules. */
export function conditionsInput(form: Form, stored: Json): Json {
  const ipAllow = lines(field(form, 'ipAllow'));
  const windows = lines(field(form, 'timeWindows')).map(timeWindowInput);
  return { ...stored, ipAllow: ipAllow.length ? ipAllow : undefined, timeWindows: windows.length ? windows : undefined, tools: toolRulesInput(form, toolsInput(field(form, 'tools'))) };
}

/** The "Conditions" form's values for a stored definition; `fielded`: the tools with their own fieldsets. */
export function conditionsValues(definition: unknown, fielded: readonly string[] = []): Record<string, string> {
  if (!isObject(definition)) return {};
  const { values, rest } = toolRuleValues(definition.tools, fielded);
  return {
    ipAllow: Array.isArray(definition.ipAllow) ? definition.ipAllow.join('\n') : '',
    timeWindows: Array.isArray(definition.timeWindows) ? definition.timeWindows.map(showTimeWindow).join('\n') : '',
    tools: Object.keys(rest).length ? JSON.stringify(rest, null, 2) : '',
    ...values,
  };
}
