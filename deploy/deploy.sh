#!/usr/bin/env bash
# Deploys zt4ai to Azure with the Bicep templates in bicep/: checks the login, previews the changes (what-if), asks
# before changing anything, deploys, waits until the service answers, and prints how to verify it.
# Needs the Azure CLI with Bicep (`az bicep install`; Bicep CLI 0.25 or newer). Walkthrough: docs/deploy-azure.md.
# Portable to the bash 3.2 that macOS ships: no associative arrays, no mapfile.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: deploy/deploy.sh --resource-group <name> [options]

  -g, --resource-group <name>  resource group (created when --location is given and it does not exist)
  -l, --location <region>      region for a new resource group, e.g. northeurope
      --template main|krs      main: runner + Key Vault (default); krs: runner + self-hosted zt4ai KRS
  -p, --parameters <file>      ARM parameters file (default: deploy/parameters/<template>.example.json)
      --ssh-key <file>         SSH public key for the admin user (sets adminSshPublicKey)
      --signer-pubkey <file>   PEM public key of the model signer (sets modelSignerPublicKeyPem)
      --policy <file>          release policy for the key (main only; sets releasePolicy); checked with
                               `zt4ai policy validate` when zt4ai is on PATH
      --set <name>=<value>     any other template parameter (repeatable), e.g. --set zt4aiPackage=<spec>
  -n, --name <name>            deployment name (default: zt4ai-<template>-<UTC time>)
      --out-dir <dir>          where to save the outputs (default: ./zt4ai-deploy-<deployment name>)
      --timeout <minutes>      how long to wait for the service (default: 30)
      --no-wait                do not wait for the service
      --wait-only              deploy nothing: wait for the service of the existing deployment --name
  -y, --yes                    do not ask before creating the resource group or deploying
  -h, --help                   this help
USAGE
}

die() {
  echo "deploy.sh: $*" >&2
  exit 1
}
log() { echo "==> $*" >&2; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"

template=main
resource_group=""
location=""
parameters_file=""
policy_file=""
ssh_key_file=""
signer_pubkey_file=""
deployment_name=""
out_dir=""
timeout_minutes=30
wait_ready=true
wait_only=false
assume_yes=false
overrides=()

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    -g | --resource-group) need_value "$@"; resource_group="$2"; shift 2 ;;
    -l | --location) need_value "$@"; location="$2"; shift 2 ;;
    --template) need_value "$@"; template="$2"; shift 2 ;;
    -p | --parameters) need_value "$@"; parameters_file="$2"; shift 2 ;;
    --ssh-key) need_value "$@"; ssh_key_file="$2"; shift 2 ;;
    --signer-pubkey) need_value "$@"; signer_pubkey_file="$2"; shift 2 ;;
    --policy) need_value "$@"; policy_file="$2"; shift 2 ;;
    --set) need_value "$@"; overrides+=("$2"); shift 2 ;;
    -n | --name) need_value "$@"; deployment_name="$2"; shift 2 ;;
    --out-dir) need_value "$@"; out_dir="$2"; shift 2 ;;
    --timeout) need_value "$@"; timeout_minutes="$2"; shift 2 ;;
    --no-wait) wait_ready=false; shift ;;
    --wait-only) wait_only=true; shift ;;
    -y | --yes) assume_yes=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

[[ -n "$resource_group" ]] || die "--resource-group is required (see --help)"
case "$template" in
  main | krs) ;;
  *) die "--template must be main or krs" ;;
esac
[[ "$timeout_minutes" =~ ^[0-9]+$ ]] || die "--timeout takes whole minutes"
template_file="$repo_root/bicep/$template.bicep"
parameters_file="${parameters_file:-$repo_root/deploy/parameters/$template.example.json}"
[[ -f "$parameters_file" ]] || die "parameters file not found: $parameters_file"
if $wait_only; then
  [[ -n "$deployment_name" ]] || die "--wait-only needs the --name of an existing deployment"
  $wait_ready || die "--wait-only and --no-wait contradict each other"
fi
deployment_name="${deployment_name:-zt4ai-$template-$(date -u +%Y%m%d%H%M%S)}"
out_dir="${out_dir:-$PWD/zt4ai-deploy-$deployment_name}"

command -v az >/dev/null || die "the Azure CLI (az) is not installed: https://learn.microsoft.com/cli/azure/install-azure-cli"

# --- parameters -------------------------------------------------------------------------------------------------

if [[ -n "$ssh_key_file" ]]; then
  [[ -f "$ssh_key_file" ]] || die "SSH public key not found: $ssh_key_file"
  overrides+=("adminSshPublicKey=$(cat "$ssh_key_file")")
fi
if [[ -n "$signer_pubkey_file" ]]; then
  grep -q 'BEGIN PUBLIC KEY' "$signer_pubkey_file" 2>/dev/null || die "not a PEM public key: $signer_pubkey_file"
  overrides+=("modelSignerPublicKeyPem=$(cat "$signer_pubkey_file")")
fi
if [[ -n "$policy_file" ]]; then
  [[ "$template" == main ]] || die "--policy is for the Key Vault template (main); the KRS gets its policies with its keys"
  [[ -f "$policy_file" ]] || die "policy file not found: $policy_file"
  if command -v zt4ai >/dev/null; then
    log "checking $policy_file with zt4ai policy validate"
    zt4ai policy validate --policy "$policy_file" || die "the release policy does not validate"
  else
    log "zt4ai is not on PATH: $policy_file is not validated before deployment"
  fi
  # az parses a KEY=VALUE whose VALUE is JSON into an object parameter.
  overrides+=("releasePolicy=$(cat "$policy_file")")
fi

# The value of a parameter after the overrides: the last --set/--ssh-key/... wins, else the parameters file.
param_value() {
  local name="$1" value="" entry
  for entry in ${overrides[@]+"${overrides[@]}"}; do
    [[ "$entry" == "$name="* ]] && value="${entry#"$name="}"
  done
  if [[ -z "$value" ]]; then
    value="$(grep -E "\"$name\"[[:space:]]*:" "$parameters_file" | head -n 1 | sed -E 's/.*"value"[[:space:]]*:[[:space:]]*"?([^",}]*)"?.*/\1/' || true)"
  fi
  printf '%s' "$value"
}

if ! $wait_only; then
  # Placeholders left in the parameters file must be overridden.
  placeholders="$(grep -E 'REPLACE-ME' "$parameters_file" | sed -nE 's/^[[:space:]]*"([A-Za-z0-9]+)".*/\1/p' || true)"
  while read -r name; do
    [[ -n "$name" ]] || continue
    case "$(param_value "$name")" in
      REPLACE-ME*) die "parameter $name is still a placeholder in $parameters_file: edit it or pass --set $name=... (--ssh-key, --signer-pubkey)" ;;
    esac
  done <<<"$placeholders"

  # deploy/policies/azure-cvm.json asks for SEV-SNP: a TDX VM would never get the key.
  vm_size="$(param_value vmSize)"
  if [[ "$template" == main && "$vm_size" =~ ^Standard_[DE]C[0-9]+e(d)?s_v[0-9]+$ && -z "$policy_file" ]]; then
    die "$vm_size is an Intel TDX size: pass --policy with a policy that asks for x-ms-isolation-tee.x-ms-attestation-type tdxvm"
  fi
fi

# --- login and resource group -----------------------------------------------------------------------------------

confirm() {
  $assume_yes && return 0
  [[ -t 0 ]] || die "$1: not asking on a non-interactive input; pass --yes"
  local answer
  read -r -p "$1 [y/N] " answer
  [[ "$answer" == y || "$answer" == Y || "$answer" == yes ]]
}

account="$(az account show --query '[name, id]' --output tsv 2>/dev/null | paste -sd ' ' -)" ||
  die "not logged in to Azure: run az login (and az account set --subscription <id>)"
[[ -n "$account" ]] || die "not logged in to Azure: run az login"
log "subscription: $account"

if $wait_only; then
  az deployment group show --resource-group "$resource_group" --name "$deployment_name" --output none 2>/dev/null ||
    die "no deployment $deployment_name in $resource_group"
elif ! az group show --name "$resource_group" --output none 2>/dev/null; then
  [[ -n "$location" ]] || die "resource group $resource_group does not exist: pass --location to create it"
  confirm "Create resource group $resource_group in $location?" || die "cancelled"
  az group create --name "$resource_group" --location "$location" --output none
fi

az_args=(--resource-group "$resource_group" --name "$deployment_name" --template-file "$template_file" --parameters "@$parameters_file")
for entry in ${overrides[@]+"${overrides[@]}"}; do
  az_args+=(--parameters "$entry")
done

# --- preview and deploy -----------------------------------------------------------------------------------------

if ! $wait_only; then
  log "what-if: $template_file into $resource_group"
  az deployment group what-if "${az_args[@]}"
  confirm "Deploy these changes?" || die "cancelled; nothing was deployed"

  log "deploying $deployment_name (the VMs and Key Vault take several minutes)"
  az deployment group create "${az_args[@]}" --output none
fi

output() {
  az deployment group show --resource-group "$resource_group" --name "$deployment_name" \
    --query "properties.outputs.$1.value" --output tsv
}

mkdir -p "$out_dir"
az deployment group show --resource-group "$resource_group" --name "$deployment_name" \
  --query properties.outputs --output json >"$out_dir/outputs.json"
if [[ "$template" == main ]]; then
  output releasePolicyJson >"$out_dir/release-policy.json"
fi
log "outputs saved in $out_dir"

runner_vm="$(output runnerVmName)"
runner_ip="$(output runnerPrivateIp)"
runner_public_ip="$(output runnerPublicIp)"
runner_port="$(output runnerPort)"

# --- readiness --------------------------------------------------------------------------------------------------

# Runs a shell script on a VM through the VM agent (no network path to the VM needed) and prints its stdout.
# The message reads "Enable succeeded: \n[stdout]\n...\n[stderr]\n...".
vm_run() {
  az vm run-command invoke --resource-group "$resource_group" --name "$1" --command-id RunShellScript \
    --scripts "$2" --query 'value[0].message' --output tsv |
    sed -n '/^\[stdout\]$/,/^\[stderr\]$/p' | sed '1d;$d'
}

# The probe only asks whether the service is serving; it does not establish trust in it, so it skips TLS
# verification (the runner's certificate is bound to its attestation and checked by `zt4ai runner verify`).
http_code_script() {
  echo "curl --silent --insecure --max-time 5 --output /dev/null --write-out '%{http_code}' https://127.0.0.1:$1$2 || true"
}

diagnose() {
  log "diagnostics from $1:"
  vm_run "$1" "cloud-init status --long; systemctl --no-pager status $2 | head -n 20; journalctl --no-pager -u $2 -n 40; curl --silent --insecure --max-time 5 https://127.0.0.1:$3/status || true" >&2 || true
}

# wait_for <vm> <unit> <port> <path> [public ip]
wait_for() {
  local vm="$1" unit="$2" port="$3" path="$4" public_ip="${5:-}" code deadline
  deadline=$(($(date +%s) + timeout_minutes * 60))
  while true; do
    code=""
    if [[ -n "$public_ip" ]]; then
      code="$(curl --silent --insecure --max-time 5 --output /dev/null --write-out '%{http_code}' "https://$public_ip:$port$path" || true)"
    fi
    if [[ "$code" != 200 ]]; then
      code="$(vm_run "$vm" "$(http_code_script "$port" "$path")" | tail -n 1)"
    fi
    [[ "$code" == 200 ]] && return 0
    if [[ $(date +%s) -ge $deadline ]]; then
      diagnose "$vm" "$unit" "$port"
      return 1
    fi
    log "$unit on $vm not ready yet (GET $path: ${code:-no answer}); first boot installs Node.js and zt4ai; retrying in 30 s"
    sleep 30
  done
}

if [[ "$template" == krs ]]; then
  krs_vm="$(output krsVmName)"
  krs_url="$(output krsUrl)"
  krs_port="${krs_url##*:}"
  $wait_ready || {
    log "not waiting. Later: re-run with the same --name, or see docs/deploy-azure.md"
    exit 0
  }
  wait_for "$krs_vm" zt4ai-krs.service "$krs_port" /healthz || die "the KRS did not become healthy within $timeout_minutes minutes"
  log "copying the KRS certificate to $runner_vm as the CA it trusts for $krs_url"
  cert="$(vm_run "$krs_vm" 'cat /var/lib/zt4ai-krs/tls/cert.pem')"
  [[ "$cert" == *"BEGIN CERTIFICATE"* ]] || die "could not read the KRS certificate from $krs_vm"
  printf '%s\n' "$cert" >"$out_dir/krs-cert.pem"
  cert_b64="$(printf '%s\n' "$cert" | base64 | tr -d '\n')"
  vm_run "$runner_vm" "install -d -m 0755 /etc/zt4ai && echo '$cert_b64' | base64 -d >/etc/zt4ai/krs-ca.pem && chmod 0644 /etc/zt4ai/krs-ca.pem && systemctl try-restart zt4ai-runner.service" >/dev/null
  # With --wait-only (after the key and the sealed model exist), go on and wait for the runner below.
  $wait_only || {
    cat <<EOF

KRS:     $krs_url (certificate saved in $out_dir/krs-cert.pem)
Runner:  https://$runner_ip:$runner_port (starts serving once the KRS can release its model key)

The runner authenticates to the KRS with its managed identity ($(output identityPrincipalId)), which the KRS grants
keys.release for $(output krsResource). It keeps retrying until the model key exists on the KRS and a model sealed
to it is uploaded: create both from a machine in the virtual network with the KRS's administrator token
(docs/deploy-azure.md, "Self-hosted KRS"). Then wait for it:
  deploy/deploy.sh --template krs --resource-group $resource_group --name $deployment_name --wait-only
Check the runner: az vm run-command invoke -g $resource_group -n $runner_vm --command-id RunShellScript \\
                    --scripts "curl -sk https://127.0.0.1:$runner_port/status"
EOF
    exit 0
  }
fi

# Right after the first deployment there is no sealed model yet (it is sealed to the key this deployment made), so
# waiting would only time out. Look, if the caller may list the container; when unsure, wait.
if [[ "$template" == main ]] && $wait_ready && ! $wait_only; then
  blobs="$(az storage blob list --auth-mode login --account-name "$(output storageAccountName)" \
    --container-name "$(output modelContainerName)" --prefix "$(output modelBlobPrefix)/" --num-results 1 \
    --query 'length(@)' --output tsv 2>/dev/null || true)"
  if [[ "$blobs" == 0 ]]; then
    cat <<EOF

Deployed. No sealed model is uploaded yet, so the runner cannot serve. Next:
  deploy/seal-and-upload.sh --resource-group $resource_group --deployment $deployment_name \\
    --model <model dir> --sign-key <signing key>
  deploy/deploy.sh --resource-group $resource_group --name $deployment_name --wait-only
EOF
    exit 0
  fi
fi

if $wait_ready; then
  log "waiting for the runner (GET /readyz answers once the model is unsealed and serving)"
  wait_for "$runner_vm" zt4ai-runner.service "$runner_port" /readyz "$runner_public_ip" ||
    die "the runner was not ready within $timeout_minutes minutes (see the diagnostics above and docs/deploy-azure.md, Troubleshooting)"
fi

endpoint="https://$runner_ip:$runner_port"
[[ -n "$runner_public_ip" ]] && endpoint="https://$runner_public_ip:$runner_port"
if [[ "$template" == krs ]]; then
  key_line="$(output krsUrl)/keys/$(output keyName)"
  attestation_line="$(output krsUrl)"
  policy_line="<the release policy you gave the key>"
else
  key_line="$(output keyId)"
  attestation_line="$(output maaEndpoint)"
  policy_line="$out_dir/release-policy.json"
fi
cat <<EOF

Runner endpoint:  $endpoint$([[ -z "$runner_public_ip" ]] && echo " (private: reach it from the virtual network, a peered network or Azure Bastion)")
Key:              $key_line
Attestation:      $attestation_line

Verify the runner before you send it anything:
  zt4ai runner verify $endpoint --policy $policy_line
EOF
