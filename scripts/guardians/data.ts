import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared beside the repository holds the datasets; they are never copied in. */
export const SHARED_DATASETS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets');

export interface LabelledRow {
  readonly text: string;
  readonly label: 'injection' | 'benign';
  readonly source: string;
  readonly subset: string;
}

/** Reads a prompt-injection JSONL split (train or dev) from ../shared. */
export function readSplit(name: 'train' | 'dev', dir = resolve(SHARED_DATASETS, 'prompt-injection')): LabelledRow[] {
  return readFileSync(resolve(dir, `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as LabelledRow);
}
