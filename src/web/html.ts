/**
 * Server-rendered HTML: one escaping function, one layout. No inline script or style anywhere
 * (the CSP forbids both); the stylesheet is served from /assets/portcullis.css.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML content and double- or single-quoted attributes. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A trusted HTML fragment (built only from `html` templates and `esc`). */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return esc(part);
}

/** Tagged template: interpolations are escaped unless they are Html. */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0]!;
  parts.forEach((part, i) => {
    out += render(part) + strings[i + 1]!;
  });
  return new Html(out);
}

export interface PageOptions {
  title: string;
  /** Path prefix of this server (issuer path), for asset URLs. */
  base?: string;
  body: Html;
  /** A wider card, for pages with tables (account and org pages). */
  wide?: boolean;
  /** The main element's id: a page's identity for tests and styling (e.g. `device-approved`). */
  id?: string;
}

// Referrer policy 'same-origin', not 'no-referrer': see securityHeaders() in web.ts (Origin: null on POST).
// The empty icon stops browsers asking for /favicon.ico, a 404 logged as a console error on every page.
export function page({ title, base = '', body, wide = false, id }: PageOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Portcullis</title>
<link rel="stylesheet" href="${base}/assets/portcullis.css">
<link rel="icon" href="data:,">
</head>
<body>
<main${id ? html` id="${id}"` : ''} class="card${wide ? ' wide' : ''}">
<header class="brand">Portcullis</header>
${body}
</main>
</body>
</html>`.value;
}

export const STYLESHEET = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #f6f8fa; --card: #fff; --line: #d0d7de; --accent: #0969da; --accent-fill: #1f6feb; --warn-bg: #fff8c5; --warn-fg: #6e5700; --err: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --card: #161b22; --line: #30363d; --accent: #4493f8; --accent-fill: #1f6feb; --warn-bg: #3b2e00; --warn-fg: #e3b341; --err: #f85149; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
.card { max-width: 34rem; margin: 3rem auto; padding: 2rem; background: var(--card); border: 1px solid var(--line); border-radius: 12px; overflow-wrap: break-word; }
/* WCAG 2.2 SC 1.4.10 Reflow: at 320–400 CSS px the card takes the whole width, so nothing scrolls sideways. */
@media (max-width: 40rem) { .card { margin: 0; padding: 1.25rem 1rem; border-width: 0 0 1px; border-radius: 0; } }
/* Links in the palette's own blue: the browser's default #00e is 2.2:1 on the dark card (SC 1.4.3 wants 4.5:1); light --accent is #0969da because #1f6feb is 4.35:1 on --bg (notices). */
a { color: var(--accent); }
/* SC 2.4.7 Focus Visible: one clear ring on every control, in both schemes. */
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.brand { font-weight: 700; letter-spacing: .02em; color: var(--muted); margin-bottom: 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
p, ul { margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input[type=email], input[type=password], input[type=text], textarea { width: 100%; padding: .6rem .7rem; font: inherit; color: inherit; background: transparent; border: 1px solid var(--line); border-radius: 8px; }
button { font: inherit; padding: .6rem 1.2rem; border-radius: 8px; border: 1px solid var(--line); background: transparent; color: inherit; cursor: pointer; }
/* A filled button's own blue: white on the dark theme's lighter link blue is 3.1:1, under WCAG 2.2 SC 1.4.3's 4.5:1; on #1f6feb it is 4.6:1. */
button.primary { background: var(--accent-fill); border-color: var(--accent-fill); color: #fff; font-weight: 600; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.5rem; }
.muted { color: var(--muted); font-size: .9rem; }
.error { color: var(--err); font-weight: 600; }
.warning { background: var(--warn-bg); color: var(--warn-fg); padding: .75rem 1rem; border-radius: 8px; }
.client { display: flex; gap: 1rem; align-items: center; margin-bottom: 1rem; }
.client img { width: 48px; height: 48px; border-radius: 8px; object-fit: contain; }
.scopes { list-style: none; padding: 0; }
.scopes li { padding: .6rem 0; border-top: 1px solid var(--line); }
.scopes li:first-child { border-top: 0; }
.scopes .tools { display: block; color: var(--muted); font-size: .85rem; }
.scopes li.unavailable .scope-text { color: var(--muted); text-decoration: line-through; }
.scopes .reason { display: block; color: var(--warn-fg); font-size: .85rem; }
.orgs div { margin: .25rem 0; }
.card.wide { max-width: 72rem; }
.user-code { font: 600 1.5rem/1.2 ui-monospace, SFMono-Regular, Menlo, monospace; letter-spacing: .12em; }
.nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: center; padding-bottom: .75rem; margin-bottom: 1.25rem; border-bottom: 1px solid var(--line); }
.nav a { color: inherit; text-decoration: none; }
.nav a[aria-current=page] { color: var(--accent); font-weight: 600; }
form.inline { display: inline; margin: 0; }
button.link { padding: 0; border: 0; background: none; color: var(--accent); text-decoration: underline; }
button.danger { border-color: var(--err); color: var(--err); }
table { width: 100%; border-collapse: collapse; margin: 0 0 1rem; font-size: .92rem; }
/* A wide table scrolls inside its own box (SC 1.4.10 allows two-dimensional scrolling for data tables); the box is focusable so a keyboard can scroll it (SC 2.1.1). */
.table-scroll { overflow-x: auto; max-width: 100%; margin: 0 0 1rem; }
.table-scroll > table { margin: 0; }
th, td { text-align: left; vertical-align: top; padding: .45rem .5rem; border-top: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; }
select, input[type=date], input[type=number] { font: inherit; color: inherit; background: transparent; padding: .4rem .5rem; border: 1px solid var(--line); border-radius: 8px; max-width: 100%; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 1rem 0; padding: .5rem 1rem 1rem; }
label.choice { display: inline; font-weight: normal; margin: 0 1rem 0 0; }
.notice { background: var(--bg); border-left: 4px solid var(--accent); padding: .6rem 1rem; border-radius: 4px; }
.secret { font-size: 1rem; word-break: break-all; padding: .75rem; border: 1px dashed var(--accent); border-radius: 8px; display: block; }
.tree { list-style: none; padding-left: 1.25rem; }
td input[type=text] { width: 12rem; padding: .35rem .5rem; }
td button, td select { padding: .3rem .7rem; }
td form.inline { display: inline-block; margin: 0 .25rem .25rem 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
.sub { display: block; color: var(--muted); font-size: .85rem; }
.sub code { word-break: break-all; }
pre.json { margin: .25rem 0 1rem; padding: .6rem .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; border: 1px solid var(--line); border-radius: 8px; font: .85rem/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
.compare { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1rem; }
@media (max-width: 40rem) { .compare { grid-template-columns: minmax(0, 1fr); } }
section.tool { border-top: 1px solid var(--line); padding-top: 1rem; margin-top: 1.5rem; }
section.tool select { max-width: 100%; }
section.tool td code { word-break: break-all; }
`;
