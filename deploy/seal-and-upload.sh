#!/usr/bin/env bash
# For the model owner: signs a model, seals it to the deployment's Key Vault key and uploads the sealed model to the
# deployment's storage container. The plaintext model never leaves this machine; Azure only ever sees ciphertext.
#   1. az keyvault key download: the public part of the model key (PEM). Needs Key Vault Reader on the key
#      (bicep/main.bicep grants it to modelOwnerPrincipalId).
#   2. zt4ai model sign: an OpenSSF Model Signing bundle of the plaintext model, with your ECDSA key.
#   3. zt4ai model seal: every file encrypted; the data key wrapped (RSA-OAEP-256) to the Key Vault key.
#   4. az storage blob upload-batch --auth-mode login: needs Storage Blob Data Contributor on the container.
# Needs the Azure CLI (logged in) and zt4ai on PATH. Walkthrough: docs/deploy-azure.md.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: deploy/seal-and-upload.sh --resource-group <name> --deployment <name> --model <dir> --sign-key <pem> [options]

  -g, --resource-group <name>  resource group of the deployment
  -d, --deployment <name>      deployment made by deploy/deploy.sh (its outputs name the key and the container)
  -m, --model <dir>            plaintext model directory (or a single model file)
  -k, --sign-key <pem>         your ECDSA P-256/P-384 private key; its public key must be the deployment's
                               modelSignerPublicKeyPem, or the runner refuses the model
      --wrap-key <pem>         seal to this RSA public key instead of downloading the Key Vault key (with --kid);
                               for a deployment without Key Vault (krs)
      --kid <id>               key reference recorded in the sealed headers (default: the Key Vault key's versioned id)
  -w, --work-dir <dir>         where the signature and the sealed model are written (default: a new temporary dir)
      --replace                overwrite a sealed model already uploaded under the same prefix
  -h, --help                   this help
USAGE
}

die() {
  echo "seal-and-upload.sh: $*" >&2
  exit 1
}
log() { echo "==> $*" >&2; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"; }

resource_group=""
deployment=""
model=""
sign_key=""
wrap_key=""
kid=""
work_dir=""
replace=false

while [[ $# -gt 0 ]]; do
  case "$1" in
    -g | --resource-group) need_value "$@"; resource_group="$2"; shift 2 ;;
    -d | --deployment) need_value "$@"; deployment="$2"; shift 2 ;;
    -m | --model) need_value "$@"; model="$2"; shift 2 ;;
    -k | --sign-key) need_value "$@"; sign_key="$2"; shift 2 ;;
    --wrap-key) need_value "$@"; wrap_key="$2"; shift 2 ;;
    --kid) need_value "$@"; kid="$2"; shift 2 ;;
    -w | --work-dir) need_value "$@"; work_dir="$2"; shift 2 ;;
    --replace) replace=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

[[ -n "$resource_group" && -n "$deployment" && -n "$model" && -n "$sign_key" ]] ||
  die "--resource-group, --deployment, --model and --sign-key are required (see --help)"
[[ -e "$model" ]] || die "model not found: $model"
[[ -f "$sign_key" ]] || die "signing key not found: $sign_key"
if [[ -n "$wrap_key" ]]; then
  [[ -f "$wrap_key" ]] || die "wrap key not found: $wrap_key"
  [[ -n "$kid" ]] || die "--wrap-key needs --kid (the key reference the runner will ask for)"
fi
command -v az >/dev/null || die "the Azure CLI (az) is not installed"
command -v zt4ai >/dev/null || die "zt4ai is not on PATH (npm install --global <zt4ai package>)"

az account show --output none 2>/dev/null || die "not logged in to Azure: run az login"

output() {
  az deployment group show --resource-group "$resource_group" --name "$deployment" \
    --query "properties.outputs.$1.value" --output tsv
}

account="$(output storageAccountName)"
container="$(output modelContainerName)"
prefix="$(output modelBlobPrefix)"
[[ -n "$account" && -n "$container" && -n "$prefix" ]] ||
  die "deployment $deployment in $resource_group has no storage outputs (is it a zt4ai deployment?)"

# Before the (long) sealing: may we write there, and is the place free?
existing="$(az storage blob list --auth-mode login --account-name "$account" --container-name "$container" \
  --prefix "$prefix/" --num-results 1 --query 'length(@)' --output tsv)" ||
  die "cannot list $account/$container: you need Storage Blob Data Contributor on it (deploy with modelOwnerPrincipalId)"
if [[ "$existing" != 0 ]] && ! $replace; then
  die "a model is already uploaded under $container/$prefix/: pass --replace to overwrite it"
fi

if [[ -z "$work_dir" ]]; then
  work_dir="$(mktemp -d "${TMPDIR:-/tmp}/zt4ai-seal.XXXXXX")"
fi
mkdir -p "$work_dir"
[[ ! -e "$work_dir/sealed" ]] || die "$work_dir/sealed already exists: use a new --work-dir"

if [[ -z "$wrap_key" ]]; then
  vault="$(output keyVaultName 2>/dev/null || true)"
  key="$(output keyName)"
  [[ -n "$vault" ]] || die "deployment $deployment has no Key Vault (krs template): pass --wrap-key and --kid"
  wrap_key="$work_dir/wrap-key.pem"
  rm -f "$wrap_key"
  log "downloading the public part of $vault/$key"
  az keyvault key download --vault-name "$vault" --name "$key" --encoding PEM --file "$wrap_key" ||
    die "could not read the key: you need Key Vault Reader on it (deploy with modelOwnerPrincipalId, see docs/deploy-azure.md)"
  # The versioned id: the sealed headers then say exactly which key version a runner must obtain.
  kid="${kid:-$(az keyvault key show --vault-name "$vault" --name "$key" --query key.kid --output tsv)}"
fi

log "signing $model"
zt4ai model sign "$model" --key "$sign_key" --out "$work_dir/model.sig"

log "sealing $model to $kid"
zt4ai model seal "$model" --out "$work_dir/sealed" --wrap-key "$wrap_key" --kid "$kid" --sig "$work_dir/model.sig"

upload_args=(--auth-mode login --account-name "$account" --destination "$container" --destination-path "$prefix"
  --source "$work_dir/sealed")
$replace && upload_args+=(--overwrite true)
log "uploading the sealed model to $account/$container/$prefix/"
az storage blob upload-batch "${upload_args[@]}" --output none

cat <<EOF

Uploaded. Sealed model and signature: $work_dir (the plaintext stays where it was).
The runner picks the model up on its next start (it retries on its own); to wait for it:
  deploy/deploy.sh --resource-group $resource_group --name $deployment --wait-only
EOF
