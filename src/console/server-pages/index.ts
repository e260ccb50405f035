/**
 * The server administrators' pages (server-pages/access.ts says who sees them). Each section is
 * its own module; this file only mounts them.
 */
import { Hono } from 'hono';
import type { WebEnv } from '../../web/pages.ts';
import type { ServerPagesDeps, ServerRoutes } from './access.ts';
import { applicationToolRoutes } from './application-tools.ts';
import { applicationRoutes } from './applications.ts';
import { clientRoutes } from './clients.ts';
import { dashboardRoutes } from './dashboard.ts';
import { keyRoutes } from './keys.ts';
import { peopleRoutes } from './people.ts';
import { orgDeletionRoutes } from './org-deletion.ts';
import { configurationRoutes } from './configuration.ts';
import { doctorRoutes } from './doctor.ts';
import { tokenRoutes } from './tokens.ts';
import { simulatorRoutes } from './simulator.ts';
import { auditRecordRoutes } from './audit-record.ts';

/** Sections, in navigation order; each module adds its routes (one line per section here). */
const SECTIONS: ServerRoutes[] = [
  dashboardRoutes,
  applicationRoutes,
  applicationToolRoutes,
  clientRoutes,
  simulatorRoutes,
  tokenRoutes,
  doctorRoutes,
  keyRoutes,
  peopleRoutes,
  orgDeletionRoutes,
  configurationRoutes,
  auditRecordRoutes,
];

export function serverPages(deps: ServerPagesDeps): Hono<WebEnv> {
  const app = new Hono<WebEnv>();
  for (const routes of SECTIONS) routes(app, deps);
  return app;
}
