/**
 * The demo model's training text: written for this project and dedicated to the public domain (CC0), so
 * the demo model can be regenerated anywhere. Short plain sentences about the story the demo tells; a
 * word-level trigram model trained on it answers in the same vocabulary.
 */
export const DEMO_CORPUS = `
Zero trust means that nothing is trusted because of where it runs.
Every request is verified before it is answered.
Every key is released only to a workload that proves what it is.
A confidential virtual machine keeps its memory encrypted with a key that the host never sees.
The processor signs a report that describes the virtual machine and its launch measurement.
The report carries sixty four bytes of data that the guest chooses.
The guest puts the hash of its public key and a fresh nonce into the report data.
The attestation service checks the signature of the report with the chain of the processor vendor.
The attestation service checks that the report data commits to the runtime data.
The attestation service issues a signed token with the claims of the report.
The key service reads the token and evaluates the release policy over its claims.
The release policy asks for a genuine processor, a recent firmware and a guest that cannot be debugged.
The release policy can also pin the launch measurement and the configuration of the runner.
When the policy holds, the key service wraps the model key to the public key of the guest.
When the policy does not hold, the key service refuses and says which clause failed.
Only the guest holds the private key, so only the guest can unwrap the model key.
The model is sealed with its own data key before it leaves the owner.
The sealed model is useless to anyone who does not hold the key.
The runner verifies the signature of the model before it serves a single token.
A model whose files differ from the signed manifest is never served.
The runner unseals the model in memory and hashes every file as it goes.
If one byte of the sealed model changes, unsealing stops with a precise reason.
If the guest was launched with debugging allowed, the key is not released.
If the configuration of the runner changes, the key is not released either.
The runner answers on an interface that existing clients already speak.
Every prompt passes the input guardian before the model sees it.
The input guardian looks for injected instructions, hidden text and encoded payloads.
A blocked request never reaches the model, and the session can be ended.
Every answer passes the output guardian before the client sees it.
The output guardian redacts personal data and secrets from the answer.
The output guardian stops the answer when it repeats the system prompt.
The system prompt carries a canary that must never appear in an answer.
The guardians run inside the same confidential virtual machine as the model.
So the guardians are covered by the same attestation as the model itself.
The owner of the model decides who may run it, and the hardware proves who does.
The operator of the host can stop the machine but cannot read the model.
The keys stay in memory and are wiped when the runner stops.
The plaintext model never touches a disk.
Trust is not given once, it is checked again at every step.
A simulator makes evidence in the real formats, so the whole story runs on a laptop.
Evidence from the simulator proves nothing about real hardware, and every token says so.
Never trust, always verify, at every layer of the stack, including the model itself.
`;
