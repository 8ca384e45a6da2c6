import { createServer, type Server } from 'node:net';

function listenOnAnyPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/**
 * `count` distinct ports the OS reports free on 127.0.0.1 right now (all held open until each is
 * known, so they differ). Another process could take one before our server binds it; the
 * startup check then fails with the server's log, which says so.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnAnyPort());
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export const freePort = async (): Promise<number> => (await freePorts(1))[0]!;

/** Fails with a clear message when a port someone configured is already taken on 127.0.0.1. */
export function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`${what} port ${port} is already in use on 127.0.0.1 (${error.code}); choose another or leave it unset`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}
