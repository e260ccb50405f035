/**
 * Charts drawn on the server as SVG — no script, nothing the CSP forbids (colours are SVG
 * presentation attributes, not `style`). Each is `role="img"` named by its `<title>` and
 * described by its `<desc>` (SVG 2 §5.10; WAI-ARIA Graphics), and every page that shows one also
 * shows its numbers as a table, so nothing is only in the picture (WCAG 1.1.1).
 */
import { html, type Html } from '../../web/html.ts';

export interface Series {
  name: string;
  colour: string;
}

export interface StackedBar {
  label: string;
  values: number[];
}

const WIDTH = 640;
const HEIGHT = 220;
const TOP = 28;
const BOTTOM = 24;

function frame(id: string, title: string, desc: string, height: number, body: Html): Html {
  return html`<svg viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-labelledby="${id}-title ${id}-desc" data-testid="${id}" class="chart"><title id="${id}-title">${title}</title><desc id="${id}-desc">${desc}</desc>${body}</svg>`;
}

function legend(series: Series[]): Html {
  return html`${series.map((s, i) => html`<rect x="${8 + i * 110}" y="6" width="12" height="12" fill="${s.colour}"></rect><text x="${24 + i * 110}" y="16" font-size="12" fill="#222">${s.name}</text>`)}`;
}

/** One bar per label, its series stacked bottom-up (calls per day by outcome). */
export function stackedBars(id: string, title: string, desc: string, series: Series[], bars: StackedBar[]): Html {
  const max = Math.max(1, ...bars.map((b) => b.values.reduce((a, v) => a + v, 0)));
  const slot = (WIDTH - 16) / Math.max(1, bars.length);
  const plot = HEIGHT - TOP - BOTTOM;
  const columns = bars.map((bar, i) => {
    let base = HEIGHT - BOTTOM;
    const x = 8 + i * slot + slot * 0.15;
    const parts = bar.values.map((v, s) => {
      const h = (v / max) * plot;
      base -= h;
      return v ? html`<rect x="${x.toFixed(1)}" y="${base.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${series[s]!.colour}"></rect>` : '';
    });
    return html`<g>${parts}<text x="${(x + slot * 0.35).toFixed(1)}" y="${HEIGHT - 8}" font-size="10" text-anchor="middle" fill="#222">${bar.label}</text></g>`;
  });
  return frame(id, title, desc, HEIGHT, html`${legend(series)}<line x1="8" x2="${WIDTH - 8}" y1="${HEIGHT - BOTTOM}" y2="${HEIGHT - BOTTOM}" stroke="#666"></line>${columns}`);
}

/** One horizontal bar per label (denials by code, top tools). */
export function horizontalBars(id: string, title: string, desc: string, colour: string, rows: { label: string; value: number }[]): Html {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const height = 12 + rows.length * 26;
  const bars = rows.map((r, i) => {
    const w = (r.value / max) * (WIDTH - 260);
    const y = 8 + i * 26;
    return html`<text x="8" y="${y + 14}" font-size="12" fill="#222">${r.label}</text><rect x="200" y="${y}" width="${w.toFixed(1)}" height="18" fill="${colour}"></rect><text x="${(206 + w).toFixed(1)}" y="${y + 14}" font-size="12" fill="#222">${String(r.value)}</text>`;
  });
  return frame(id, title, desc, height, html`${bars}`);
}
