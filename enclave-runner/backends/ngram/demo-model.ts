import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_CORPUS } from './corpus.js';
import { trainNgram } from './train.js';

export const DEMO_MODEL_FILE = 'ngram.json';

/**
 * Writes the demo model into `outDir` (created; must be empty): `ngram.json`, trained on DEMO_CORPUS
 * (deterministic: the same bytes every time), and a model card. Sign and seal it like any other model.
 */
export async function makeDemoModel(outDir: string): Promise<{ files: string[]; bytes: number; vocabulary: number }> {
  await mkdir(outDir, { recursive: true });
  if ((await readdir(outDir)).length > 0) throw new Error(`${outDir} is not empty`);
  const model = trainNgram(DEMO_CORPUS);
  const json = `${JSON.stringify(model)}\n`;
  await writeFile(join(outDir, DEMO_MODEL_FILE), json);
  await writeFile(join(outDir, 'MODEL_CARD.md'), card(model.vocab.length, Object.keys(model.next).length, model.corpusSha256));
  return { files: [DEMO_MODEL_FILE, 'MODEL_CARD.md'], bytes: Buffer.byteLength(json), vocabulary: model.vocab.length };
}

function card(vocab: number, contexts: number, sha: string): string {
  return `# zt4ai demo model

A word-level trigram language model with bigram back-off (format \`zt4ai-ngram/1\`), made by
\`zt4ai runner make-demo-model\` from a short text written for the project (CC0, in
enclave-runner/backends/ngram/corpus.ts; SHA-256 ${sha}).

- vocabulary: ${vocab} tokens; contexts: ${contexts}
- intended use: demonstrating attestation-gated model release, sealing and the OpenAI-compatible API
- not intended for anything else: it strings together phrases of its training text and follows no instructions
`;
}
