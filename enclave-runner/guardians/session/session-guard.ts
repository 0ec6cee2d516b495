import { EventEmitter } from 'node:events';
import { GuardianError } from '../errors.js';
import { InputGuardian } from '../input/input-guardian.js';
import { sha256Hex } from '../input/policy.js';
import type { Verdict } from '../input/policy.js';
import { type GuardRequest, type PartScan, scanRequest } from '../input/request.js';
import { type OpenAiErrorBody, blockedBody, sessionEndedBody } from './error-body.js';
import { TtlStore } from './ttl-store.js';

/** A request as the runner sees it: who sends it, and what it carries. */
export interface SessionRequest extends GuardRequest {
  readonly conversationId?: string;
  /** An identifier of the API key (never the secret itself): it ends up in events and the store. */
  readonly apiKeyId?: string;
}

/** For metrics and the audit trail: what happened, never the input itself (only its SHA-256). */
export interface GuardEvent {
  readonly type: 'allowed' | 'flagged' | 'blocked' | 'refused';
  readonly at: number;
  readonly verdict: Verdict;
  readonly score: number;
  /** Layers that fired in the decisive part. */
  readonly layers: readonly string[];
  readonly rules: readonly string[];
  readonly part: 'user' | 'document' | 'session';
  readonly documentIndex?: number;
  /** SHA-256 (hex) of the decisive part's text. */
  readonly inputSha256: string;
  readonly conversationId?: string;
  readonly apiKeyId?: string;
  /** When a block ended the session: until when (ms since the epoch). */
  readonly endedUntil?: number;
}

/** The runner's answer: forward to the model, or return `body` with `status`. */
export type GuardDecision =
  | { readonly allowed: true; readonly verdict: 'allow' | 'flag'; readonly event: GuardEvent }
  | { readonly allowed: false; readonly status: 400 | 403; readonly body: OpenAiErrorBody; readonly retryAfterSeconds?: number; readonly event: GuardEvent };

export interface SessionGuardOptions {
  readonly guardian?: InputGuardian;
  /** How long a block ends the conversation and/or API key. Default 15 minutes. */
  readonly endForMs?: number;
  /** What a block ends: the conversation, the API key, or both (default). */
  readonly end?: ReadonlyArray<'conversation' | 'apiKey'>;
  /** Bound of the in-memory store. Default 100,000 entries. */
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** Called for every decision, besides the 'event' event. */
  readonly onEvent?: (event: GuardEvent) => void;
}

/**
 * Session termination: a blocked request never reaches the model, and its conversation and/or API key
 * is refused until the end period expires. Emits an 'event' (GuardEvent) for every decision.
 */
export class SessionGuard extends EventEmitter<{ event: [GuardEvent] }> {
  readonly guardian: InputGuardian;
  private readonly store: TtlStore;
  private readonly endForMs: number;
  private readonly ends: ReadonlySet<'conversation' | 'apiKey'>;
  private readonly now: () => number;
  private readonly onEvent: ((event: GuardEvent) => void) | undefined;

  constructor(options: SessionGuardOptions = {}) {
    super();
    this.endForMs = options.endForMs ?? 15 * 60_000;
    const maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isFinite(this.endForMs) || this.endForMs < 0) throw new GuardianError('ERR_GUARD_CONFIG', 'endForMs must be a non-negative number');
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new GuardianError('ERR_GUARD_CONFIG', 'maxEntries must be a positive integer');
    this.guardian = options.guardian ?? new InputGuardian();
    this.now = options.now ?? Date.now;
    this.store = new TtlStore(maxEntries, this.now);
    this.ends = new Set(options.end ?? ['conversation', 'apiKey']);
    this.onEvent = options.onEvent;
  }

  /** Decides one request: refuse an ended session, else scan it and end the session on a block. */
  check(request: SessionRequest): GuardDecision {
    const ids = { ...(request.conversationId === undefined ? {} : { conversationId: request.conversationId }), ...(request.apiKeyId === undefined ? {} : { apiKeyId: request.apiKeyId }) };
    const endedUntil = this.endedUntil(request);
    if (endedUntil !== undefined) {
      const retryAfterSeconds = Math.max(1, Math.ceil((endedUntil - this.now()) / 1000));
      const event = this.emitEvent({ type: 'refused', at: this.now(), verdict: 'block', score: 1, layers: ['session'], rules: [], part: 'session', inputSha256: sha256Hex(request.user), endedUntil, ...ids });
      return { allowed: false, status: 403, body: sessionEndedBody(retryAfterSeconds), retryAfterSeconds, event };
    }
    const scan = scanRequest(this.guardian, request);
    const d = scan.decisive;
    const text = d.part === 'user' ? request.user : (request.documents?.[d.index ?? 0]?.text ?? '');
    const base = describe(d, text, ids, this.now());
    if (scan.verdict !== 'block') {
      const event = this.emitEvent({ ...base, type: scan.verdict === 'flag' ? 'flagged' : 'allowed', verdict: scan.verdict, score: scan.score });
      return { allowed: true, verdict: scan.verdict, event };
    }
    const until = this.endSession(request);
    const event = this.emitEvent({ ...base, type: 'blocked', verdict: 'block', score: scan.score, ...(until === undefined ? {} : { endedUntil: until }) });
    const where = d.part === 'user' ? 'user message' : `document ${d.index ?? 0}`;
    const body = blockedBody(event.layers, event.rules, where, until === undefined ? null : Math.round(this.endForMs / 1000));
    return { allowed: false, status: 400, body, event };
  }

  /** When the request's conversation or API key is ended: the later expiry, or undefined. */
  endedUntil(request: Pick<SessionRequest, 'conversationId' | 'apiKeyId'>): number | undefined {
    const a = request.conversationId === undefined ? undefined : this.store.get(`c:${request.conversationId}`);
    const b = request.apiKeyId === undefined ? undefined : this.store.get(`k:${request.apiKeyId}`);
    if (a === undefined) return b;
    return b === undefined ? a : Math.max(a, b);
  }

  /** Lifts an end early (an operator's decision). */
  reinstate(request: Pick<SessionRequest, 'conversationId' | 'apiKeyId'>): void {
    if (request.conversationId !== undefined) this.store.delete(`c:${request.conversationId}`);
    if (request.apiKeyId !== undefined) this.store.delete(`k:${request.apiKeyId}`);
  }

  private endSession(request: SessionRequest): number | undefined {
    if (this.endForMs === 0) return undefined;
    const until = this.now() + this.endForMs;
    let ended = false;
    if (this.ends.has('conversation') && request.conversationId !== undefined) {
      this.store.set(`c:${request.conversationId}`, until);
      ended = true;
    }
    if (this.ends.has('apiKey') && request.apiKeyId !== undefined) {
      this.store.set(`k:${request.apiKeyId}`, until);
      ended = true;
    }
    return ended ? until : undefined;
  }

  private emitEvent(event: GuardEvent): GuardEvent {
    this.onEvent?.(event);
    this.emit('event', event);
    return event;
  }
}

function describe(d: PartScan, text: string, ids: { conversationId?: string; apiKeyId?: string }, at: number): Omit<GuardEvent, 'type' | 'verdict' | 'score'> {
  return {
    at,
    layers: d.result.layers.filter((l) => l.fired && l.verdict !== 'allow').map((l) => l.layer),
    rules: d.result.rules,
    part: d.part,
    ...(d.index === undefined ? {} : { documentIndex: d.index }),
    inputSha256: sha256Hex(text),
    ...ids,
  };
}
