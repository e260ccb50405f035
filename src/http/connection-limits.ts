/**
 * A bound on the connections one address may hold open at once. Each open socket costs a file
 * descriptor; with the usual limit of 1024, a single client holding ~1,100 idle or trickling
 * sockets made every other request fail. Over the bound, a new connection is closed at once.
 *
 * Behind a reverse proxy every connection comes from the proxy, so the bound is off by default
 * when `trustProxy` is set (the proxy bounds its clients); see core/config.ts `http`.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export function limitConnectionsPerAddress(server: Server, max: number): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
