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
  return {
    schema: CONFIG_SCHEMA,
    trustedSigners: config.trustedSigners.map((s) => spkiSha256(s.publicKeyPem)).sort(),
    guardians: {
      input: { enabled: input.enabled, thresholds: input.thresholds, endSessionSeconds: input.endSessionSeconds, endSession: [...input.endSession].sort(), maxInputChars: input.maxInputChars },
      output: { enabled: output.enabled, leakAction: output.leakAction, disable: [...output.disable].sort() },
    },
    backend: servedBackend(config),
    systemPromptSha256: sha256Hex(config.systemPrompt),
  };
}

/** What decides the answers: the model file and how it is prompted, not threads or ports. */
function servedBackend(config: RunnerConfig): Record<string, unknown> {
  const b = config.backend;
  switch (b.kind) {
    case 'ngram':
      return { kind: b.kind, file: b.file };
    case 'llama':
      return { kind: b.kind, file: b.file, promptFormat: b.promptFormat };
    case 'openai-upstream':
      // A pointed-at upstream's loopback port is an address like any other; a started one's command is what runs,
      // and its file which of the unsealed files it serves (as the llama backend's file).
      return { kind: b.kind, command: b.command?.argv ?? null, ...(b.command ? { file: b.command.file } : {}), model: b.model };
  }
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
