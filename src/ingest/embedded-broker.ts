import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  url: string;
  close(): Promise<void>;
}

/**
 * In-process MQTT 3.1.1 broker (Aedes) for a machine with no broker configured. Only the
 * platform's own credential may connect; device credentials are checked against the
 * device registry once devices exist.
 */
export async function startEmbeddedBroker(options: { port: number; host?: string; username: string; password: string }): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const expected = Buffer.from(options.password);
  broker.authenticate = (_client, username, password, callback) => {
    const ok = username === options.username && !!password && password.length === expected.length && timingSafeEqual(password, expected);
    if (ok) return callback(null, true);
    const error = Object.assign(new Error('bad username or password'), { returnCode: 4 });
    callback(error as never, false);
  };
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`embedded MQTT broker: port ${options.port} is already in use (set EMBEDDED_MQTT_PORT or MQTT_URL)`) : e),
    );
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        broker.close(() => {});
      }),
  };
}
