import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { spkiSha256 } from '../startup/runtime-data.js';

/** One JSON answer and, over TLS, the SHA-256 of the server certificate's SPKI it came with. */
export interface BoundAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly spkiSha256: string | null;
}

const MAX_BYTES = 4 * 1024 * 1024;

/**
 * GET a JSON document. Over https the server certificate is not checked against CAs here: the runner's
 * certificate is usually its own, and what makes the channel trustworthy is that its public key is the one
 * the attested runtime data names; the caller compares `spkiSha256` with that (and fails closed without it).
 */
export function getJson(url: URL, timeoutMs = 10_000): Promise<BoundAnswer> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const socket = res.socket as TLSSocket;
      const peer = typeof socket.getPeerX509Certificate === 'function' ? socket.getPeerX509Certificate() : undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BYTES) req.destroy(new Error('the answer is too large'));
        else chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        let body: unknown = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = null;
        }
        resolve({ status: res.statusCode ?? 0, body, spkiSha256: peer ? spkiSha256(peer) : null });
      });
    };
    const options = { method: 'GET', timeout: timeoutMs, headers: { accept: 'application/json' } };
    const req = url.protocol === 'https:' ? httpsRequest(url, { ...options, agent: false, rejectUnauthorized: false }, onResponse) : httpRequest(url, options, onResponse);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
