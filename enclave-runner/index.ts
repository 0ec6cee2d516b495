/**
 * The enclave runner: evidence sources, the start-up sequence (attest, release, verify, unseal, load), the
 * OpenAI-compatible API behind the guardians, and its CLI. See README "The enclave runner".
 */
export { type LaunchOptions, type RunningRunner, launchRunner } from './runner.js';
export { runnerLauncher } from './launcher.js';
export { loadRunnerConfigFile, resolveRunnerConfig } from './config/load.js';
export { configDigest, effectiveConfig } from './config/digest.js';
export { CONFIG_SCHEMA, type RunnerConfig } from './config/types.js';
export { RUNNER_ERROR_CODES, RunnerError, type RunnerErrorCode, type RunnerReason, isRunnerError } from './errors.js';
export type { AzureVtpmEvidence, EvidenceBinding, EvidenceSource, SnpEvidence } from './evidence/source.js';
export { CONFIGFS_TSM_ROOT, ConfigfsTsmSource } from './evidence/configfs-tsm.js';
export { AzureVtpmSource } from './evidence/azure-vtpm.js';
export { AZURE_AK_HANDLE, HCL_REPORT_NV_INDEX, type PcrSelection, type TpmDevice, type TpmQuoteOutput, USER_DATA_NV_INDEX } from './evidence/tpm-device.js';
export { DEFAULT_TCTI, Tpm2ToolsDevice, type Tpm2ToolsOptions } from './evidence/tpm2-tools.js';
export { DEFAULT_PROBE_PATHS, type ProbePaths, selectEvidenceSource } from './evidence/detect.js';
export type { ChatMessage, GenerateParams, InferenceBackend } from './backends/backend.js';
export { NgramBackend } from './backends/ngram/backend.js';
export { DEMO_MODEL_FILE, makeDemoModel } from './backends/ngram/demo-model.js';
export { OpenAiProxyBackend } from './backends/upstream/openai-proxy.js';
export type { RunnerStatus } from './serve/status.js';
export { STEPS, type StepName, type StepOutcome } from './startup/steps.js';
export { createRunnerMetrics, type RunnerMetrics } from './metrics.js';
