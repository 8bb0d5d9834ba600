import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs (pino); the request id is bound per request by the HTTP middleware. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'threeflow' }, redact: ['req.headers.authorization', '*.password', '*.secret'] });
}
