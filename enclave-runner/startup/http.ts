import { readFile } from 'node:fs/promises';
import { Agent, type Dispatcher, request } from 'undici';
import { RunnerError, type RunnerErrorCode } from '../errors.js';

/** An HTTP answer: status and the body (parsed JSON when it is JSON, else text). */
export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Connection pool, cancellation and timeout of one request. */
export interface HttpOptions {
  readonly dispatcher?: Dispatcher | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number;
}

/** A connection pool that trusts only the given CA bundle, or undefined (the system's CAs). */
export async function dispatcherFor(caFile: string | null): Promise<Dispatcher | undefined> {
  if (caFile === null) return undefined;
  let ca: string;
  try {
    ca = await readFile(caFile, 'utf8');
  } catch (cause) {
    throw new RunnerError('ERR_RUNNER_CONFIG', `cannot read the TLS CA file "${caFile}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, { cause });
  }
  return new Agent({ connect: { ca } });
}

/**
 * One request; a network failure (refused, TLS, timeout) becomes `unavailable` with the cause's code,
 * never a body or a header value.
 */
export async function call(method: 'GET' | 'POST', url: string, body: unknown, o: HttpOptions, unavailable: RunnerErrorCode): Promise<HttpAnswer> {
  const timeout = o.timeoutMs ?? 30_000;
  try {
    const res = await request(url, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const text = await res.body.text();
    const json = /json/.test(String(res.headers['content-type'] ?? '')) ? parseOrText(text) : text;
    return { status: res.statusCode, body: json };
  } catch (cause) {
    const why = (cause as { code?: string }).code ?? (cause as Error).name;
    throw new RunnerError(unavailable, `${method} ${new URL(url).origin}${new URL(url).pathname} failed: ${why}`, { cause });
  }
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `{error: {code, message, details?}}` (MAA's CloudError, the KRS's, Key Vault's), bounded for logs. */
export function errorOf(body: unknown): { code: string; message?: string; details?: Array<{ code: string; message: string }> } | null {
  const e = (body as { error?: { code?: unknown; message?: unknown; zt4aiCode?: unknown; details?: unknown } } | null)?.error;
  if (!e || typeof e !== 'object') return null;
  const code = typeof e.zt4aiCode === 'string' ? e.zt4aiCode : typeof e.code === 'string' ? e.code : 'unknown';
  const details = Array.isArray(e.details)
    ? e.details.filter((d): d is { code: string; message: string } => typeof d?.code === 'string' && typeof d?.message === 'string').slice(0, 32).map((d) => ({ code: d.code, message: d.message.slice(0, 300) }))
    : [];
  return { code, ...(typeof e.message === 'string' ? { message: e.message.slice(0, 500) } : {}), ...(details.length > 0 ? { details } : {}) };
}
