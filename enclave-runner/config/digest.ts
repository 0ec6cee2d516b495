import { createHash, createPublicKey } from 'node:crypto';
import { canonicalJson } from '../../keys/audit/canonical-json.js';
import { CONFIG_SCHEMA, type RunnerConfig } from './types.js';

/**
 * The part of the configuration that decides what a released key may be used for: which signers' models
 * are served, how the guardians are set, which backend answers, and the system prompt (as its hash). Its
 * SHA-256 goes into the runtime data as `x-zt4ai-config`, so a release policy can pin it
 * (`{"claim": "x-ms-runtime.x-zt4ai-config", "equals": "<hex>"}`) and a runner configured otherwise
 * (another signer, guardians off, another prompt) gets no key. Addresses, paths and timeouts are left out:
 * they change per deployment without changing what is served.
 */
export function effectiveConfig(config: RunnerConfig): Record<string, unknown> {
  const { input, output } = config.guardians;
  const backend = config.backend.kind === 'ngram' ? { kind: 'ngram', file: config.backend.file } : { kind: 'openai-proxy', url: config.backend.url, model: config.backend.model };
  return {
    schema: CONFIG_SCHEMA,
    trustedSigners: config.trustedSigners.map((s) => spkiSha256(s.publicKeyPem)).sort(),
    guardians: {
      input: { enabled: input.enabled, thresholds: input.thresholds, endSessionSeconds: input.endSessionSeconds, endSession: [...input.endSession].sort(), maxInputChars: input.maxInputChars },
      output: { enabled: output.enabled, leakAction: output.leakAction, disable: [...output.disable].sort() },
    },
    backend,
    systemPromptSha256: sha256Hex(config.systemPrompt),
  };
}

/** SHA-256 (hex) of the canonical JSON of `effectiveConfig`: the `x-zt4ai-config` value. */
export function configDigest(config: RunnerConfig): string {
  return sha256Hex(canonicalJson(effectiveConfig(config)));
}

function spkiSha256(pem: string): string {
  return createHash('sha256').update(createPublicKey(pem).export({ type: 'spki', format: 'der' })).digest('hex');
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
