/**
 * Writes the shared character vocabulary (simulator/model/vocab.ts) as JSON for train.py, so the Python
 * trainer and the GGUF files agree on every token id without a second copy of the vocabulary.
 * Usage: npx tsx scripts/demo-model/vocab-json.ts <out.json>
 */
import { writeFileSync } from 'node:fs';
import { characterVocabulary } from '../../simulator/model/vocab.js';

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: vocab-json.ts <out.json>\n');
  process.exit(2);
}
writeFileSync(out, `${JSON.stringify(characterVocabulary(), null, 1)}\n`);
