# Shared settings for the scripts in this folder. Sourced, never run.
# Everything the scripts create lives under .work/ (git-ignored), so a clean clone starts from nothing.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK="$ROOT/.work"
# The tools virtualenv runs the newest ansible-core of the matrix below: integration, molecule, the system tests,
# lint, the docs and the demo all run there.
TOOLS_VENV="$WORK/venv/tools"
LOCALSTACK_VENV="$WORK/venv/localstack"
# Override to keep a second copy of the tree, e.g. for two test runs at once.
COLLECTIONS_ROOT=${SEGMENTS_COLLECTIONS_ROOT:-$WORK/collections}
COLLECTION_TREE="$COLLECTIONS_ROOT/ansible_collections/segments/cloud"
CACHE="$WORK/cache"
RUN_DIR="$WORK/run"
# LocalStack's own virtualenv keeps the Python it is known to run on.
LOCALSTACK_PYTHON_VERSION=3.11

# The supported ansible-core versions, each as CORE/PYTHON/ANSIBLE: the ansible-core release, the Python that sanity
# and the unit tests run it on, and the ansible package (on PyPI; Galaxy is out of reach here) whose bundled
# amazon.aws, community.aws and google.cloud go with that core. The last entry is the newest: the tools virtualenv.
# meta/runtime.yml's requires_ansible and the README's "Supported versions" follow the first entry.
CORE_MATRIX="2.19.14/3.11/12.3.0 2.20.10/3.12/13.8.0 2.21.5/3.13/14.5.0"
NEWEST_CORE_ENTRY=${CORE_MATRIX##* }
NEWEST_CORE=${NEWEST_CORE_ENTRY%%/*}
NEWEST_PYTHON_VERSION=${NEWEST_CORE_ENTRY#*/}; NEWEST_PYTHON_VERSION=${NEWEST_PYTHON_VERSION%%/*}
ANSIBLE_PACKAGE_VERSION=${NEWEST_CORE_ENTRY##*/}
BUNDLED_COLLECTIONS="amazon/aws community/aws google/cloud"
# The older cores of the matrix each get a virtualenv and a collections root of their own under $MATRIX_DIR/CORE.
MATRIX_DIR="$WORK/matrix"

# Local clouds. Ports are configurable so that two checkouts can run side by side.
SEGMENTS_LOCALSTACK_PORT=${SEGMENTS_LOCALSTACK_PORT:-4566}
SEGMENTS_GCS_PORT=${SEGMENTS_GCS_PORT:-9023}
# The fake of the GCP IAM roles API (tests/fakes/gcp_iam_roles.py): no local emulator of it exists.
SEGMENTS_IAM_PORT=${SEGMENTS_IAM_PORT:-9190}
SEGMENTS_AZURITE_PORT=${SEGMENTS_AZURITE_PORT:-10000}
# The fake of Azure Resource Manager, Microsoft Graph and Entra ID sign-in (tests/fakes/azure_arm.py), over HTTPS with
# a CA it makes at start: no local emulator of them exists.
SEGMENTS_AZURE_PORT=${SEGMENTS_AZURE_PORT:-9443}
AZURE_FAKE_NAME="azure-fake-$SEGMENTS_AZURE_PORT"
# Its CA alone, and certifi's roots plus it (what REQUESTS_CA_BUNDLE gets, so other HTTPS hosts stay trusted).
AZURE_FAKE_CA="$RUN_DIR/$AZURE_FAKE_NAME-ca.pem"
AZURE_FAKE_CA_BUNDLE="$RUN_DIR/$AZURE_FAKE_NAME-ca-bundle.pem"
# The fake's tenant, subscription, resource group and the one client it signs in (made-up values, local only).
AZURE_FAKE_TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
AZURE_FAKE_SUBSCRIPTION=5e9a0c1d-0000-4000-8000-00000000a2ee
AZURE_FAKE_RESOURCE_GROUP=segments-local
AZURE_FAKE_CLIENT_ID=0f1e2d3c-4b5a-4968-8776-655443322110
AZURE_FAKE_SECRET=segments-local-fake-secret
# Azurite from npm: 3.35 is the newest line that runs on Node.js 20 (3.37 needs Node.js 22).
AZURITE_VERSION=3.35.0
AZURITE_DIR="$WORK/azurite"
# Azurite's well-known development account (public, documented by Microsoft), and a second account for the tests.
AZURITE_ACCOUNT_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS_ROOT"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_HOME="$WORK/ansible-home"
export ANSIBLE_LOCAL_TEMP="$WORK/ansible-home/tmp"
export ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-1}
export ANSIBLE_FORCE_COLOR=0
export PIP_DISABLE_PIP_VERSION_CHECK=1

core_minor() { local minor=${1#*.}; printf '%s.%s' "${1%%.*}" "${minor%%.*}"; }  # 2.21.5 -> 2.21

# find_python X.Y: print the path of a working Python X.Y: python3.X on PATH, else the newest pyenv 3.X.* build.
find_python() {
  local version=$1 candidate root
  candidate=$(command -v "python$version" 2>/dev/null || true)
  if [ -n "$candidate" ] && "$candidate" -c '' >/dev/null 2>&1; then printf '%s\n' "$candidate"; return 0; fi
  if command -v pyenv >/dev/null 2>&1 && root=$(pyenv root 2>/dev/null); then
    for candidate in $(ls -d "$root"/versions/"$version".*/bin/python"$version" 2>/dev/null | sort -V -r); do
      if "$candidate" -c '' >/dev/null 2>&1; then printf '%s\n' "$candidate"; return 0; fi
    done
  fi
  return 1
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Environment for clients of the local clouds: dummy credentials, loopback endpoints.
local_cloud_env() {
  export AWS_ENDPOINT_URL="http://127.0.0.1:$SEGMENTS_LOCALSTACK_PORT"
  export AWS_ACCESS_KEY_ID=test
  export AWS_SECRET_ACCESS_KEY=test
  export AWS_REGION=us-east-1
  export AWS_DEFAULT_REGION=us-east-1
  export STORAGE_EMULATOR_HOST="http://127.0.0.1:$SEGMENTS_GCS_PORT"
  export GCP_PROJECT=segments-local
  export SEGMENTS_GCP_IAM_ENDPOINT="http://127.0.0.1:$SEGMENTS_IAM_PORT"
  export SEGMENTS_AZURITE_ENDPOINT="http://127.0.0.1:$SEGMENTS_AZURITE_PORT"
  # Azure's management plane on the fake, the way a private cloud is reached: azure.azcollection's cloud_environment
  # (AZURE_CLOUD_ENVIRONMENT, which AWX's Azure credential also sets) as a metadata discovery endpoint URL, the
  # service principal variables AWX injects, and the fake's CA trusted by requests (azure-core and MSAL use it).
  export SEGMENTS_AZURE_FAKE_ENDPOINT="https://127.0.0.1:$SEGMENTS_AZURE_PORT"
  export AZURE_CLOUD_ENVIRONMENT="$SEGMENTS_AZURE_FAKE_ENDPOINT/metadata/endpoints?api-version=2022-09-01"
  export AZURE_CLIENT_ID=$AZURE_FAKE_CLIENT_ID
  export AZURE_SECRET=$AZURE_FAKE_SECRET
  export AZURE_TENANT=$AZURE_FAKE_TENANT
  export AZURE_SUBSCRIPTION_ID=$AZURE_FAKE_SUBSCRIPTION
  export SEGMENTS_AZURE_RESOURCE_GROUP=$AZURE_FAKE_RESOURCE_GROUP
  export REQUESTS_CA_BUNDLE=$AZURE_FAKE_CA_BUNDLE
  export SSL_CERT_FILE=$AZURE_FAKE_CA_BUNDLE
  unset AZURE_PROFILE ANSIBLE_AZURE_AUTH_SOURCE
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN
}

activate_tools() {
  # shellcheck disable=SC1091
  . "$TOOLS_VENV/bin/activate"
}

# The connection string of a storage account on the local Azurite (path-style endpoint, http).
azurite_connection_string() {  # ACCOUNT
  printf 'DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=http://127.0.0.1:%s/%s;' \
    "$1" "$AZURITE_ACCOUNT_KEY" "$SEGMENTS_AZURITE_PORT" "$1"
}
