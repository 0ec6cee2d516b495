/** The I/O guardians: input scanning, session termination, streaming output redaction, evaluation. */
export { GUARDIAN_ERROR_CODES, GuardianError, type GuardianErrorCode } from './errors.js';
export { InputGuardian, committedModel, type InputGuardianOptions, type ScanResult } from './input/input-guardian.js';
export type { LayerReport } from './input/layers.js';
export { type GuardPolicy, type Thresholds, type Verdict, sha256Hex } from './input/policy.js';
export { type GuardRequest, type RequestScan, scanRequest } from './input/request.js';
export { RULES, type Rule, type RuleFamily, type RuleHit } from './input/rules.js';
export type { TextKind } from './input/classifier.js';
export { SessionGuard, type GuardDecision, type GuardEvent, type SessionGuardOptions, type SessionRequest } from './session/session-guard.js';
export type { OpenAiErrorBody } from './session/error-body.js';
export { OutputGuardian, LEAK_NOTICE, type OutputFindings, type OutputGuardianOptions } from './output/output-guardian.js';
export { redact, findSpans, type DetectOptions, type Redaction } from './output/detect.js';
export { LeakDetector, makeCanary, type LeakOptions } from './output/leak.js';
export { unsupportedSentences, type UnsupportedOptions } from './output/unsupported.js';
export type { EntityType, Span } from './output/spans.js';
export { registerGuardCommands, type GuardCliIo, type GuardCliResult } from './cli.js';
