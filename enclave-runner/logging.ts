import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * The runner's logger (JSON lines). Prompts, answers, tokens, keys and evidence never reach it: request
 * logging is off (one summary line per request is written by hand), errors are reduced to type and code,
 * and the redact list is a second line of defence.
 */
export function createRunnerLogger(level: string, stream?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'zt4ai-runner' },
      redact: { paths: ['authorization', 'token', 'target', 'material', 'messages', 'prompt', 'content', '*.token', '*.authorization'], censor: '[redacted]' },
      serializers: { err: (err: { name?: string; code?: string }) => ({ type: err.name, code: err.code }) },
    },
    stream,
  );
}
