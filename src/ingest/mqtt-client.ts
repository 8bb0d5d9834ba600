import mqtt, { type MqttClient } from 'mqtt';

export interface MqttSettings {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** 5 for Mosquitto/EMQX, 4 (MQTT 3.1.1) for the embedded Aedes broker. */
  protocolVersion: 4 | 5;
}

/**
 * Connects and resolves on the first CONNACK. Afterwards MQTT.js reconnects on its own;
 * `client.connected` is what readiness reports.
 */
export function connectMqtt(
  settings: MqttSettings,
  options: {
    clientId: string;
    clean?: boolean;
    timeoutMs?: number;
    sessionExpirySeconds?: number;
    /**
     * Installed before the connection opens: a resumed session delivers queued messages right
     * behind the CONNACK, and MQTT.js's default handler would acknowledge them unprocessed.
     */
    handleMessage?: MqttClient['handleMessage'];
  },
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(settings.url, {
      clientId: options.clientId,
      username: settings.username,
      password: settings.password,
      protocolVersion: settings.protocolVersion,
      clean: options.clean ?? true,
      ...(settings.protocolVersion === 5 && options.sessionExpirySeconds !== undefined ? { properties: { sessionExpiryInterval: options.sessionExpirySeconds } } : {}),
      reconnectPeriod: 1000,
      connectTimeout: options.timeoutMs ?? 5000,
    });
    if (options.handleMessage) client.handleMessage = options.handleMessage;
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`MQTT broker at ${settings.url} did not accept a connection within ${options.timeoutMs ?? 5000} ms`));
    }, options.timeoutMs ?? 5000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      client.end(true);
      reject(new Error(`MQTT broker at ${settings.url} refused the connection: ${err.message}`));
    };
    client.once('error', fail);
    client.once('connect', () => {
      clearTimeout(timer);
      client.off('error', fail);
      client.on('error', () => {}); // reconnects are automatic; readiness shows the state
      resolve(client);
    });
  });
}

export function endMqtt(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}
