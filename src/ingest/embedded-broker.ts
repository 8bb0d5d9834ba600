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
export async function startEmbeddedBroker(options: {
  port: number;
  host?: string;
  username: string;
  password: string;
  /** Devices log in with username = device id and their broker password, checked against the registry. */
  authenticateDevice: (deviceId: string, password: string) => Promise<boolean>;
}): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const expected = Buffer.from(options.password);
  const platformClients = new WeakSet<object>();
  const deviceOf = new WeakMap<object, string>();
  broker.authenticate = (client, username, password, callback) => {
    const refuse = () => callback(Object.assign(new Error('bad username or password'), { returnCode: 4 }) as never, false);
    if (username === options.username) {
      if (!password || password.length !== expected.length || !timingSafeEqual(password, expected)) return refuse();
      platformClients.add(client);
      return callback(null, true);
    }
    // A device's client id is its device id: otherwise one device could take over another's (or the platform's) session.
    if (!username || !password || client.id !== username) return refuse();
    options.authenticateDevice(username, password.toString('utf8')).then(
      (ok) => {
        if (!ok) return refuse();
        deviceOf.set(client, username);
        callback(null, true);
      },
      () => refuse(),
    );
  };
  // Like the Mosquitto pattern ACL in devices/mosquitto/acl: a device writes only under its own topic.
  broker.authorizePublish = (client, packet, callback) => {
    if (!client) return callback(new Error('no client'));
    if (platformClients.has(client)) return callback(null);
    const own = `tf/v1/devices/${deviceOf.get(client) ?? '(none)'}/`;
    return packet.topic.startsWith(own) ? callback(null) : callback(new Error(`device may publish only under ${own}`));
  };
  broker.authorizeSubscribe = (client, subscription, callback) => {
    if (client && platformClients.has(client)) return callback(null, subscription);
    return callback(new Error('devices do not subscribe'), null);
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
