/**
 * node-llama-cpp for the model tests, imported dynamically so only these tests pay for the native addon.
 * One thread: node-llama-cpp's default of four on a two-core machine is hundreds of times slower.
 */
import type { Llama, LlamaModel } from 'node-llama-cpp';

export type NodeLlamaCpp = typeof import('node-llama-cpp');

export async function loadLlama(): Promise<{ lib: NodeLlamaCpp; llama: Llama }> {
  const lib = await import('node-llama-cpp');
  const llama = await lib.getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: lib.LlamaLogLevel.error });
  return { lib, llama };
}

/** Plain completion of `prompt` (BOS added by the model's metadata), greedy unless a temperature is given. */
export async function complete(lib: NodeLlamaCpp, model: LlamaModel, prompt: string, maxTokens: number, temperature = 0): Promise<{ text: string; tokens: number }> {
  const ctx = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    const completion = new lib.LlamaCompletion({ contextSequence: ctx.getSequence() });
    let tokens = 0;
    const text = await completion.generateCompletion(prompt, {
      maxTokens,
      temperature,
      seed: 1,
      onToken: (t) => {
        tokens += t.length;
      },
    });
    return { text, tokens };
  } finally {
    await ctx.dispose();
  }
}
