#!/usr/bin/env bash
# Installs what the zt4ai services need on a confidential Ubuntu VM (24.04 or 22.04), run once by cloud-init as root:
#   install-zt4ai.sh <node major: 20|22> <npm install spec of zt4ai>
#
# Node.js: Ubuntu's own nodejs package is too old (24.04 ships 18.x; zt4ai needs >= 20.19), so this uses NodeSource's
# apt repository (deb.nodesource.com, the Debian/Ubuntu route listed on nodejs.org), verified with NodeSource's
# signing key. Prebuilt binaries are not downloaded from anywhere else.
# zt4ai: `npm install --global <spec>`. The package is not published on the npm registry, so the spec is a tarball
# you host (from `npm pack`) or a pinned git URL (git+https://host/org/zt4ai.git#<commit>).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <node major: 20|22> <zt4ai npm install spec>" >&2
  exit 2
fi
node_major="$1"
package_spec="$2"
case "$node_major" in
  20 | 22) ;;
  *)
    echo "unsupported Node.js major version: $node_major (use 20 or 22)" >&2
    exit 2
    ;;
esac

export DEBIAN_FRONTEND=noninteractive

# The model is unsealed into tmpfs; swap would write its pages (and keys) to disk. Azure images ship without swap
# (waagent ResourceDisk.EnableSwap=n); make sure nothing turned it on, and say so if something did.
if [[ -n "$(swapon --noheadings --show 2>/dev/null)" ]]; then
  echo "zt4ai: swap was enabled; turning it off (also disable it in /etc/fstab and waagent.conf)" >&2
  swapoff --all
fi

install -d -m 0755 /etc/apt/keyrings
curl --fail --silent --show-error --location https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key |
  gpg --dearmor --yes --output /etc/apt/keyrings/nodesource.gpg
chmod 0644 /etc/apt/keyrings/nodesource.gpg
echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_${node_major}.x nodistro main" \
  >/etc/apt/sources.list.d/nodesource.list

apt-get update
# tpm2-tools: the runner reads the HCL report and makes TPM quotes through the vTPM (/dev/tpmrm0).
# build-essential and python3: native addons fall back to a local build when no prebuilt binary matches.
apt-get install --yes --no-install-recommends nodejs tpm2-tools build-essential python3 openssl

node_version="$(node --version)"
if [[ "$node_version" != "v${node_major}."* ]]; then
  echo "expected Node.js ${node_major}.x from NodeSource, got ${node_version}" >&2
  exit 1
fi

# /dev/tpmrm0 to group tss (mode 0660), so the runner needs a group, not root or a capability.
getent group tss >/dev/null || groupadd --system tss
udevadm control --reload-rules
udevadm trigger --subsystem-match=tpmrm --action=change
udevadm settle

npm install --global --no-fund --no-audit "$package_spec"
command -v zt4ai >/dev/null || {
  echo "zt4ai is not on PATH after npm install --global ${package_spec}" >&2
  exit 1
}
echo "zt4ai: installed with Node.js ${node_version} from ${package_spec}"
