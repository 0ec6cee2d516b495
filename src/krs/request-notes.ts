import type { FastifyRequest } from 'fastify';

/** What the summary log line and the metrics may say about a request: codes and flags, never content. */
export interface RequestNote {
  outcome?: 'issued' | 'rejected';
  code?: string;
  detailCodes?: string[];
  kid?: string;
  simulated?: boolean;
  fresh?: boolean;
}

const notes = new WeakMap<FastifyRequest, RequestNote>();

export function noteRequest(request: FastifyRequest, note: RequestNote): void {
  notes.set(request, { ...notes.get(request), ...note });
}

export function requestNote(request: FastifyRequest): RequestNote {
  return notes.get(request) ?? {};
}
