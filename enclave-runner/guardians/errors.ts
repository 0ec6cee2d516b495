/**
 * Every guardian failure carries a stable `code`; callers switch on it and codes never change meaning.
 * Messages never quote the guarded text: they end up in logs that must not hold prompts or PII.
 */
export const GUARDIAN_ERROR_CODES = {
  ERR_GUARD_CONFIG: 'a guardian option is out of range or malformed',
  ERR_GUARD_MODEL: 'the committed classifier weights are missing or malformed',
  ERR_GUARD_INPUT: 'the input is not a string or exceeds the configured size limit',
  ERR_GUARD_DATA: 'an evaluation file is malformed or of an unknown kind',
  ERR_GUARD_STREAM_CLOSED: 'push() or flush() was called on a finished output stream',
} as const;

export type GuardianErrorCode = keyof typeof GUARDIAN_ERROR_CODES;

/** A guardian failure with a stable code. */
export class GuardianError extends Error {
  override readonly name = 'GuardianError';
  readonly code: GuardianErrorCode;
  constructor(code: GuardianErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${GUARDIAN_ERROR_CODES[code]}: ${detail}` : GUARDIAN_ERROR_CODES[code], options);
    this.code = code;
  }
}
