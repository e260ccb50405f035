/**
 * The "Conditions" tab's per-tool fields: for each tool the manifest knows, a fieldset with its
 * step-up (a sign-in within `maxAge`, with a second factor when `mfa`: RFC 9470) and its argument →
 * resource mappings, as core/application.ts's `tools.<name>` rule. The JSON textarea stays as the
 * advanced fallback for everything else (a tool's scope, its own IP ranges and windows, tools not
 * in the manifest yet); the fields win for what they cover. Errors keep the API's paths
 * (`tools.<name>.stepUp.maxAge`), shown beside the field they belong to.
 */
import { html, type Html } from '../../web/html.ts';
import { field } from '../../web/pages.ts';
import { input, type FormState } from './applications-views.ts';

type Form = Record<string, string | File>;
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const key = (tool: string, part: 'maxAge' | 'mfa' | 'arguments') => `rule.${tool}.${part}`;
/** The form field naming the tools that have fieldsets (JSON: names are the manifest's, any text). */
const NAMES_FIELD = 'ruleTools';

function ruleNames(form: Form): string[] {
  try {
    const names: unknown = JSON.parse(field(form, NAMES_FIELD) || '[]');
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}

/** The form's values for the fieldsets, and the rules left for the JSON textarea. */
export function toolRuleValues(tools: unknown, names: readonly string[]): { values: Record<string, string>; rest: Json } {
  const values: Record<string, string> = {};
  const rest: Json = {};
  for (const [name, rule] of Object.entries(isObject(tools) ? tools : {})) {
    if (!names.includes(name) || !isObject(rule)) {
      rest[name] = rule;
      continue;
    }
    const { stepUp, arguments: args, ...others } = rule;
    if (Object.keys(others).length) rest[name] = others;
    if (isObject(stepUp)) {
      values[key(name, 'maxAge')] = String(stepUp.maxAge ?? '');
      if (stepUp.mfa === true) values[key(name, 'mfa')] = 'on';
    }
    if (isObject(args)) values[key(name, 'arguments')] = Object.entries(args).map(([a, kind]) => `${a}=${String(kind)}`).join('\n');
  }
  return { values, rest };
}

function stepUpOf(form: Form, name: string): Json | undefined {
  const maxAge = field(form, key(name, 'maxAge')).trim();
  const mfa = field(form, key(name, 'mfa')) === 'on';
  if (!maxAge && !mfa) return undefined;
  // Digits alone are seconds; "5m" and the like are the schema's to read (and refuse).
  return { maxAge: /^\d+$/.test(maxAge) ? Number(maxAge) : maxAge, ...(mfa ? { mfa: true } : {}) };
}

function argumentsOf(form: Form, name: string): Json | undefined {
  const lines = field(form, key(name, 'arguments')).split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return undefined;
  // A line without "=" maps to "" so the schema, not this parser, refuses it beside the field.
  return Object.fromEntries(lines.map((line) => (line.includes('=') ? [line.slice(0, line.indexOf('=')).trim(), line.slice(line.indexOf('=') + 1).trim()] : [line, ''])));
}

/** The JSON textarea's rules with the fieldsets' step-up and arguments laid over them. */
export function toolRulesInput(form: Form, fromJson: unknown): unknown {
  if (!isObject(fromJson)) return fromJson; // not an object: the schema refuses it at `tools`
  const tools: Json = { ...fromJson };
  for (const name of ruleNames(form)) {
    const rule: Json = isObject(tools[name]) ? { ...(tools[name] as Json) } : {};
    const stepUp = stepUpOf(form, name);
    const args = argumentsOf(form, name);
    if (stepUp) rule.stepUp = stepUp;
    if (args) rule.arguments = args;
    if (Object.keys(rule).length) tools[name] = rule;
    else delete tools[name];
  }
  return tools;
}

const coveredBy = (names: readonly string[], path: string) => names.some((n) => [`tools.${n}.stepUp`, `tools.${n}.arguments`].some((p) => path === p || path.startsWith(`${p}.`)));

/** The state the JSON textarea shows errors from: those the fieldsets show are theirs. */
export function jsonRuleState(state: FormState, names: readonly string[]): FormState {
  return { ...state, errors: state.errors.filter((e) => !coveredBy(names, e.path)) };
}

export function toolRuleFieldsets(state: FormState, names: readonly string[], readOnly: boolean): Html {
  if (!names.length) return html`<p class="muted" data-testid="no-tool-fields">No tools are known yet: once the MCP server has listed its tools, each gets its fields here. Meanwhile use the JSON below.</p>`;
  const disabled = readOnly ? html` disabled` : '';
  return html`<input type="hidden" name="${NAMES_FIELD}" value="${JSON.stringify(names)}">
${names.map(
  (name) => html`<fieldset data-testid="tool-rules" data-tool="${name}"><legend>Tool <code>${name}</code></legend>
${input(state, { name: key(name, 'maxAge'), label: `Ask for a recent sign-in to call ${name}: within (e.g. 300, 5m, 1h; empty: no step-up)`, paths: [`tools.${name}.stepUp`] })}
<label class="choice"><input type="checkbox" id="${key(name, 'mfa')}" name="${key(name, 'mfa')}"${state.values[key(name, 'mfa')] === 'on' ? html` checked` : ''}${disabled}> with a second factor (RFC 9470)</label>
${input(state, { name: key(name, 'arguments'), label: `Arguments of ${name} that name a resource, one a line: argument=workspace, project or folder`, paths: [`tools.${name}.arguments`], multiline: true, placeholder: 'projectId=project' })}
</fieldset>`,
)}`;
}
