import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The committed demo model (trained by scripts/demo-model/, see its model card). */
export const DEMO_GGUF = join('models', 'demo', 'zt4ai-demo-kjv.gguf');
export const DEMO_GGUF_CARD = join('models', 'demo', 'MODEL_CARD.md');
/** Its name inside the model directory that gets signed and sealed. */
export const LLAMA_DEMO_FILE = 'model.gguf';

/** The package root: where models/ is, whether this runs from the sources or from dist/. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  while (!existsSync(join(dir, DEMO_GGUF))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`the demo model ${DEMO_GGUF} is not in this installation of zt4ai`);
    dir = up;
  }
  return dir;
}

/**
 * Writes the llama demo model into `outDir` (created; must be empty): the committed GGUF as `model.gguf`
 * with its model card. Sign and seal it like any other model.
 */
export async function makeLlamaDemoModel(outDir: string): Promise<{ files: string[]; bytes: number }> {
  const root = packageRoot();
  await mkdir(outDir, { recursive: true });
  if ((await readdir(outDir)).length > 0) throw new Error(`${outDir} is not empty`);
  await copyFile(join(root, DEMO_GGUF), join(outDir, LLAMA_DEMO_FILE));
  await copyFile(join(root, DEMO_GGUF_CARD), join(outDir, 'MODEL_CARD.md'));
  return { files: [LLAMA_DEMO_FILE, 'MODEL_CARD.md'], bytes: (await stat(join(outDir, LLAMA_DEMO_FILE))).size };
}
