import type { AuthorityResult, ClauseResult, ConditionResult, PolicyDecision } from './evaluate.js';

const PASS = '✓';
const FAIL = '✗';
const SKIP = '-';
const MAX_VALUE_CHARS = 100;
/** Beyond this many, authorities skipped for another issuer are summarised on one line. */
const MAX_SKIPPED_LINES = 3;

/**
 * A readable, multi-line account of a decision: the verdict, then every authority and clause with ✓/✗,
 * expected against actual, and why a clause failed.
 */
export function explainDecision(decision: PolicyDecision): string {
  const lines = [headline(decision)];
  if (!decision.issuerChecked) lines.push('note: no token issuer was given (e.g. local evidence), so authorities were not matched against one');
  const skipped = decision.results.filter((r) => r.issuer === 'mismatched');
  const shown = skipped.length > MAX_SKIPPED_LINES ? decision.results.filter((r) => r.issuer !== 'mismatched') : decision.results;
  for (const r of shown) lines.push(...explainAuthority(r, decision.issuer));
  if (shown.length < decision.results.length) lines.push(summariseSkipped(skipped, decision.issuer));
  return `${lines.join('\n')}\n`;
}

/** One line for a clause: `✗ claim operator expected: actual ... (reason) [path]`. */
export function explainClause(c: ClauseResult): string {
  const actual = c.present ? `actual ${formatValue(c.actual)}` : 'claim absent';
  const why = c.passed || c.reason === 'claim is absent' ? '' : ` (${c.reason})`;
  return `${c.passed ? PASS : FAIL} ${c.claim} ${c.operator} ${formatValue(c.expected)}: ${actual}${why} [${c.path}]`;
}

function headline(d: PolicyDecision): string {
  const issuer = d.issuer === null ? '' : ` (token issuer ${d.issuer})`;
  if (d.allowed) return `ALLOWED by authority ${d.matchedAuthority}${issuer}`;
  if (d.issuerChecked && d.results.every((r) => r.issuer === 'mismatched')) return `DENIED: no authority in the policy matches the token issuer ${d.issuer}`;
  const n = d.failures.length;
  return `DENIED: no applicable authority has its conditions met${issuer}; ${n} failing clause${n === 1 ? '' : 's'}`;
}

function explainAuthority(r: AuthorityResult, issuer: string | null): string[] {
  if (r.issuer === 'mismatched') return [`${SKIP} authority ${r.authority} [${r.path}]: skipped, it is not the token issuer ${issuer}`];
  const checked = r.issuer === 'matched' ? 'issuer matches' : 'issuer not checked';
  const head = `${r.passed ? PASS : FAIL} authority ${r.authority} [${r.path}] (${checked}), ${describeCombinator(r.combinator)}:`;
  return [head, ...r.conditions.flatMap((c) => explainCondition(c, '    '))];
}

function summariseSkipped(skipped: readonly AuthorityResult[], issuer: string | null): string {
  const names = skipped.slice(0, MAX_SKIPPED_LINES).map((r) => r.authority);
  return `${SKIP} ${skipped.length} authorities skipped, none is the token issuer ${issuer}: ${names.join(', ')}, ...`;
}

function explainCondition(c: ConditionResult, indent: string): string[] {
  if (c.kind === 'claim') return [`${indent}${explainClause(c)}`];
  const head = `${indent}${c.passed ? PASS : FAIL} ${describeCombinator(c.combinator)} [${c.path}]:`;
  return [head, ...c.conditions.map((x) => `${indent}    ${explainClause(x)}`)];
}

function describeCombinator(c: 'allOf' | 'anyOf'): string {
  return c === 'allOf' ? 'allOf (every condition must hold)' : 'anyOf (one condition must hold)';
}

function formatValue(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}...` : text;
}
