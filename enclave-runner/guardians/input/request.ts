import type { InputGuardian, ScanResult } from './input-guardian.js';
import { type Verdict, stricter } from './policy.js';

/** What a chat request carries: the user's message, and the data that rides along with it. */
export interface GuardRequest {
  readonly user: string;
  /** Retrieved documents, tool outputs, file contents: scanned as data (indirect injection). */
  readonly documents?: ReadonlyArray<{ readonly id?: string; readonly text: string }>;
}

/** The verdict on one part of a request. */
export interface PartScan {
  readonly part: 'user' | 'document';
  /** Position among the documents; absent for the user message. */
  readonly index?: number;
  readonly id?: string;
  readonly result: ScanResult;
}

export interface RequestScan {
  readonly verdict: Verdict;
  readonly score: number;
  readonly parts: readonly PartScan[];
  /** The part that decided the verdict (the first with the strictest verdict and highest score). */
  readonly decisive: PartScan;
}

/** Scans the user message and, separately, each document; the strictest verdict wins. */
export function scanRequest(guardian: InputGuardian, request: GuardRequest): RequestScan {
  const parts: PartScan[] = [{ part: 'user', result: guardian.scan(request.user, 'user') }];
  (request.documents ?? []).forEach((d, index) => {
    parts.push({ part: 'document', index, ...(d.id === undefined ? {} : { id: d.id }), result: guardian.scan(d.text, 'document') });
  });
  let decisive = parts[0]!;
  let verdict: Verdict = decisive.result.verdict;
  for (const p of parts.slice(1)) {
    const v = p.result.verdict;
    if (stricter(v, verdict) !== verdict || (v === verdict && p.result.score > decisive.result.score)) decisive = p;
    verdict = stricter(verdict, v);
  }
  return { verdict, score: Math.max(...parts.map((p) => p.result.score)), parts, decisive };
}
