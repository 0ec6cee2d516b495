import { createHash, generateKeyPairSync } from 'node:crypto';
import type { Command } from 'commander';
import { parseCertificate } from '../../../attestation/snp/certificate.js';
import { OFF } from '../../../attestation/snp/layout.js';
import { type TrustStore, amdTrustStore, trustAnchorsFromPem } from '../../../attestation/snp/trust.js';
import { type SnpVerdict, verifySnpReport } from '../../../attestation/snp/verify.js';
import { SimulatedFirmware, createSimulatedRoots, simulatedRootsPem } from '../../../simulator/index.js';
import { type CliIo, type CommandResult, EXIT, printJson } from '../io.js';
import { type DemoHold, runKrsDemo } from './demo-krs.js';

interface DemoStep {
  readonly step: string;
  readonly expected: 'accepted' | 'rejected';
  readonly outcome: 'accepted' | 'rejected';
  readonly codes: string[];
  readonly detail?: string;
}

/**
 * `zt4ai demo`: the Zero Trust story on the simulator, in one command: evidence verification, the attestation
 * service accepting a genuine (simulated) TEE and refusing everything else, and (with the runner composed in) a
 * sealed model released to an enclave runner that serves it behind the guardians, while a tampered model, a
 * debuggable guest, a changed configuration and another launch measurement get no key. Each refusal is shown with
 * its reason. Then the serving runner stays up until Ctrl-C (with how to talk to it and verify it), unless --once.
 */
export function registerDemoCommand(program: Command, io: CliIo, result: CommandResult): void {
  program
    .command('demo')
    .description('run the Zero Trust flow locally on the SEV-SNP simulator, explain each decision, and keep the runner serving until Ctrl-C')
    .option('--once', 'run the flow and exit (0 only when every step behaved as expected) instead of staying up')
    .option('--json', 'print the steps as one JSON object')
    .action(async (opts: { json?: boolean; once?: boolean }) => {
      const say = opts.json ? () => {} : (line: string) => io.stdout(`${line}\n`);
      // With --json, stdout carries only the JSON: the instructions for the running stack go to stderr.
      const hold = opts.once ? undefined : holdUntilSignal(opts.json ? (line) => io.stderr(`${line}\n`) : say);
      const steps = await runDemo(say, io.runner, hold);
      const ok = steps.every((s) => s.outcome === s.expected);
      if (opts.json) printJson(io, { ok, simulated: true, steps });
      result.exitCode = ok ? EXIT.ok : EXIT.negative;
    });
}

/** Prints how to talk to the serving runner and check it, then waits for Ctrl-C (SIGINT) or SIGTERM. */
function holdUntilSignal(say: (line: string) => void): (serving: DemoHold) => Promise<void> {
  return async (s) => {
    const unexpected = s.steps.filter((x) => x.outcome !== x.expected).length;
    say(unexpected === 0 ? '\nEvery step so far ended as Zero Trust says it should.' : `\n${unexpected} step(s) did NOT end as expected.`);
    say(`\nThe enclave runner keeps serving the demo model at ${s.url} (simulated evidence). It continues King James`);
    say('text from what you write (a 3.4M-parameter model, not an assistant). Talk to it:\n');
    say(`  curl -s ${s.url}/v1/chat/completions -H 'content-type: application/json' \\`);
    say(`    -d '{"model": "${s.modelId}", "messages": [{"role": "user", "content": "And the LORD said unto Moses,"}], "max_tokens": 64}'\n`);
    say('  # OpenAI SDK (npm install openai), any key: the demo runner asks for none');
    say(`  import OpenAI from 'openai';`);
    say(`  const client = new OpenAI({ baseURL: '${s.url}/v1', apiKey: 'unused' });`);
    say(`  const r = await client.chat.completions.create({ model: '${s.modelId}', messages: [{ role: 'user', content: 'And the LORD said unto Moses,' }], max_tokens: 64 });`);
    say('  console.log(r.choices[0].message.content);\n');
    say('Check its attestation before you send anything (report, chain, REPORT_DATA, token, release policy, status):\n');
    say(`  zt4ai runner verify ${s.url} --sim-roots ${s.simRootsFile} --policy ${s.policyFile}\n`);
    say('Press Ctrl-C to stop everything.');
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    say('\nStopping: runners (key buffers zeroed, plaintext removed), the simulated TEEs and the KRS...');
  };
}

async function runDemo(say: (line: string) => void, runner: CliIo['runner'], hold?: (serving: DemoHold) => Promise<void>): Promise<DemoStep[]> {
  say('zt4ai demo: SEV-SNP attestation on the SIMULATOR (simulated AMD root; nothing here proves real hardware)\n');
  const roots = await createSimulatedRoots({ seed: 'zt4ai demo' });
  const simTrust: TrustStore = [...amdTrustStore(), ...trustAnchorsFromPem(simulatedRootsPem(roots), { simulated: true })];
  // The TEE's key-release key: its public half is bound into REPORT_DATA, as the enclave runner does.
  const teeKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  const reportData = createHash('sha256').update(JSON.stringify({ keys: [teeKey] })).digest();
  say(`1. A confidential VM on a simulated Genoa chip binds its TEE key into REPORT_DATA: ${reportData.toString('hex').slice(0, 16)}...`);
  const fw = new SimulatedFirmware({ root: roots.Genoa });
  const x = fw.getExtendedReport(reportData);
  const certificates = [x.endorsement, x.intermediate, x.ark].map(parseCertificate);
  const steps: DemoStep[] = [];
  const run = (step: string, expected: DemoStep['expected'], v: SnpVerdict): void => {
    const outcome = v.ok ? 'accepted' : 'rejected';
    const codes = v.ok ? v.warnings.map((w) => w.code) : v.errors.map((e) => e.code);
    steps.push({ step, expected, outcome, codes });
    say(`   ${outcome === expected ? 'as expected' : 'UNEXPECTED'}: ${outcome.toUpperCase()}${codes.length ? ` (${codes.join(', ')})` : ''}`);
  };
  say('2. A verifier that trusts the simulated root explicitly checks signature, chain, TCB and chip binding:');
  run('genuine simulated evidence, simulated root trusted explicitly', 'accepted', verifySnpReport(x.report, { certificates, trust: simTrust }));
  say('3. The same evidence against the pinned AMD roots only (what a production KRS does):');
  run('simulated evidence against AMD roots only', 'rejected', verifySnpReport(x.report, { certificates }));
  say('4. A host that swaps the launch measurement (one byte) after the firmware signed:');
  const tampered = Buffer.from(x.report);
  tampered[OFF.measurement]! ^= 0x01;
  run('tampered measurement', 'rejected', verifySnpReport(tampered, { certificates, trust: simTrust }));
  say("5. Another chip's VCEK presented for this report:");
  const otherChip = new SimulatedFirmware({ root: roots.Genoa, chipId: Buffer.alloc(64, 0x5a) });
  run("another chip's VCEK", 'rejected', verifySnpReport(x.report, { certificates: [parseCertificate(otherChip.endorsement.der)], trust: simTrust }));
  say('6. A guest launched with debugging allowed (the host could read its memory):');
  const debug = new SimulatedFirmware({ root: roots.Genoa, guest: { policy: 0xb0000n } }).getExtendedReport(reportData);
  run('debuggable guest (a release policy must refuse it)', 'accepted', verifySnpReport(debug.report, { certificates: [debug.endorsement, debug.intermediate, debug.ark].map(parseCertificate), trust: simTrust }));
  const evidenceSteps = [...steps];
  steps.push(...(await runKrsDemo(roots, say, runner, hold ? (s) => hold({ ...s, steps: [...evidenceSteps, ...s.steps] }) : undefined)));
  const unexpected = steps.filter((s) => s.outcome !== s.expected).length;
  say(unexpected === 0 ? '\nEvery step ended as Zero Trust says it should. Everything is stopped and its temporary files removed.' : `\n${unexpected} step(s) did NOT end as expected.`);
  return steps;
}
