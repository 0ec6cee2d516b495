/** The OpenAI error envelope clients already parse. */
export interface OpenAiErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: 'invalid_request_error';
    readonly code: 'zt4ai_guardian_blocked' | 'zt4ai_session_ended';
    readonly param: null;
  };
}

/** Names the guard that fired and the rule ids, never the text that made it fire. */
export function blockedBody(guards: readonly string[], rules: readonly string[], part: string, endedForSeconds: number | null): OpenAiErrorBody {
  const which = guards.length > 0 ? guards.join(', ') : 'input guardian';
  const ids = rules.length > 0 ? `; rules: ${rules.join(', ')}` : '';
  const ended = endedForSeconds === null ? '' : ` This session is ended for ${endedForSeconds} s.`;
  return {
    error: {
      message: `Request blocked by the zt4ai input guardian (${which}${ids}; in: ${part}).${ended}`,
      type: 'invalid_request_error',
      code: 'zt4ai_guardian_blocked',
      param: null,
    },
  };
}

/** The answer to any request of a session that an earlier block ended. */
export function sessionEndedBody(retryAfterSeconds: number): OpenAiErrorBody {
  return {
    error: {
      message: `This session was ended by the zt4ai input guardian after a blocked request; retry in ${retryAfterSeconds} s.`,
      type: 'invalid_request_error',
      code: 'zt4ai_session_ended',
      param: null,
    },
  };
}
