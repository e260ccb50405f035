/**
 * The OAuth client routes of the admin API (server administrators' sessions), through
 * clients/service.ts — what the console's `/server/clients` pages and `portcullis clients` call:
 * list (with kind, last use, people connected), read, register (the secret answered once),
 * rotate the secret (the old one stops working), remove.
 */
import type { Hono } from 'hono';
import { clientServiceDeps, getClient, listClients, registerClient, removeClient, rotateClientSecret } from '../clients/service.ts';
import { readJson } from '../http/json-body.ts';
import type { AdminApiDeps, AdminEnv } from './deps.ts';
import { actorOf } from './auth.ts';

export function clientRoutes(api: Hono<AdminEnv>, deps: AdminApiDeps): void {
  const service = clientServiceDeps(deps);

  api.get('/clients', async (c) => c.json({ clients: await listClients(service) }));

  api.post('/clients', async (c) => {
    const { client, secret } = await registerClient(service, await readJson(c, true), actorOf(c.get('admin')));
    c.header('location', `${deps.config.publicUrl}/admin/api/clients/${encodeURIComponent(client.clientId)}`);
    return c.json({ ...client, ...(secret ? { clientSecret: secret } : {}) }, 201);
  });

  api.get('/clients/:id', async (c) => c.json(await getClient(service, c.req.param('id'))));

  api.post('/clients/:id/rotate-secret', async (c) => {
    const { client, secret } = await rotateClientSecret(service, c.req.param('id'), actorOf(c.get('admin')));
    return c.json({ ...client, clientSecret: secret });
  });

  api.delete('/clients/:id', async (c) => {
    await removeClient(service, c.req.param('id'), actorOf(c.get('admin')));
    return c.body(null, 204);
  });
}
