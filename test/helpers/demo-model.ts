import { resolve } from 'node:path';
import { DEMO_GGUF } from '../../enclave-runner/backends/llama/demo-model.js';
import { REPO_ROOT } from './shared.js';

export interface DirectSampling {
  readonly maxTokens: number;
  readonly seed: number;
  readonly temperature: number;
  /** Default 256, the demo model's context. */
  readonly contextSize?: number;
}

/**
 * A GGUF model run directly with node-llama-cpp (no runner, no HTTP, no guardians), as the runner's llama backend
 * runs a model without a chat template: 1 thread, plain completion. What a runner answers must be this text.
 */
export async function directCompletion(modelPath: string, prompt: string, o: DirectSampling): Promise<string> {
  const { getLlama, LlamaCompletion } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', progressLogs: false, logger: () => {} });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: o.contextSize ?? 256, threads: 1 });
  try {
    return await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion(prompt, { maxTokens: o.maxTokens, seed: o.seed, temperature: o.temperature });
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
}

/** The committed demo model, as the demo's runner is configured. */
export function demoModelDirect(prompt: string, o: DirectSampling): Promise<string> {
  return directCompletion(resolve(REPO_ROOT, DEMO_GGUF), prompt, o);
}

/** The demo's question and sampling (src/cli/commands/demo-runner.ts). */
export const DEMO_PROMPT = 'In the beginning God created';
export const DEMO_SAMPLING = { maxTokens: 120, seed: 0, temperature: 0.8 };
