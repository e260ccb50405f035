/**
 * The server administrators' pages (server-pages/access.ts says who sees them). Each section is
 * its own module; this file only mounts them.
 */
import { Hono } from 'hono';
import type { WebEnv } from '../../web/pages.ts';
import type { ServerPagesDeps, ServerRoutes } from './access.ts';

/** Sections, in navigation order; each module adds its routes (one line per section here). */
const SECTIONS: ServerRoutes[] = [];

export function serverPages(deps: ServerPagesDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  for (const routes of SECTIONS) routes(app, deps);
  return app;
}
