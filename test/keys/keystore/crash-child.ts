/**
 * Child of the crash-safety test: opens the store in argv[2] with the KEK file argv[3] and the checkpoint key
 * argv[4], then creates, rotates and re-policies keys as fast as it can, printing "ACK <name> <version>" only
 * after each change has committed. The parent SIGKILLs it at a random moment.
 */
import { readFileSync } from 'node:fs';
import { AuditLog } from '../../../keys/audit/audit-log.js';
import { createCheckpointSigner } from '../../../keys/audit/checkpoint.js';
import { kekFromFile } from '../../../keys/keystore/kek-sources.js';
import { Keystore } from '../../../keys/keystore/keystore.js';
import { encodeReleasePolicy } from '../../../keys/keystore/release-policy.js';
import { openSqliteStore } from '../../../keys/keystore/sqlite/open.js';

const [dataDir, kekFile, checkpointKeyFile, round] = process.argv.slice(2) as [string, string, string, string];
const store = openSqliteStore(dataDir, { checkpoints: { signer: createCheckpointSigner(readFileSync(checkpointKeyFile, 'utf8')), every: 7 } });
const keystore = new Keystore({ storage: store.keys, kek: await kekFromFile(kekFile) });
const audit = new AuditLog(store.audit);
const actor = { actor: `crash-child-${round}` };
const policy = (i: number) => ({ data: encodeReleasePolicy({ version: '1.0.0', anyOf: [{ authority: 'https://krs.example.com', allOf: [{ claim: 'n', equals: String(i) }] }] }) });
const names = (await keystore.list()).map((k) => k.name);

for (let i = 0; ; i++) {
  const pick = names[i % Math.max(names.length, 1)];
  const action = names.length === 0 ? 0 : i % 4;
  if (action === 0) {
    const name = `r${round}-k${i}`;
    const info = await keystore.create(name, { kty: i % 16 === 0 ? 'RSA' : 'oct-HSM', exportable: true, releasePolicy: policy(i) }, actor);
    names.push(name);
    process.stdout.write(`ACK ${info.name} ${info.version}\n`);
  } else if (action === 1 && pick) {
    const info = await keystore.rotate(pick, actor);
    process.stdout.write(`ACK ${info.name} ${info.version}\n`);
  } else if (action === 2 && pick) {
    await keystore.setReleasePolicy(pick, policy(i), actor);
  } else {
    await audit.append({ kind: 'release-allowed', subject: { name: pick ?? 'none' }, actor: 'runner', details: { i } });
  }
}
