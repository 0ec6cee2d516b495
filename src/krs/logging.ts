import { type DestinationStream, type Logger, pino } from 'pino';

export interface LoggerOptions {
  readonly level?: string;
  /** Where JSON lines go; default stdout. The CLI passes stderr so stdout carries only its own output. */
  readonly stream?: DestinationStream;
}

/**
 * The KRS logger. Evidence, nonces and tokens must never reach a log: request logging by fastify is off
 * (app.ts writes one summary line per request: route, status, latency, outcome, error codes), serializers
 * keep only named safe fields, error messages are dropped (a JSON.parse message quotes the body), and the
 * redact list is a second line of defence for anything logged by hand.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'zt4ai-krs' },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.body', 'body', 'token', 'nonce', 'report', 'runtimeData', 'initTimeData', '*.token', '*.nonce', '*.report'],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { method?: string; url?: string; id?: string }) => ({ id: req.id, method: req.method, path: req.url?.split('?')[0] }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: (err: { name?: string; code?: string; statusCode?: number }) => ({ type: err.name, code: err.code, statusCode: err.statusCode }),
      },
    },
    options.stream,
  );
}
