#!/usr/bin/env bash
# The onboarding role end to end, through the collection's own playbooks, on an inventory of two AWS
# "accounts" (same LocalStack, different settings), one GCP project and one Azure tenant (Azurite and the ARM fake).
set -eux

CONFIG=../../integration_config.yml
play() { ansible-playbook -e @"$CONFIG" -e @vars_azure.yml "$@"; }
# setup_azurite sets and reads Azurite's Blob service properties exactly, setup_azure_fake seeds and reads the Azure
# Resource Manager fake (estate.yml, verify.yml; aliases has ansible-test copy them next to this target); the modules
# trust the fake's CA through requests.
export ANSIBLE_ROLES_PATH=..
REQUESTS_CA_BUNDLE=$(sed -n 's/^azure_ca_bundle: "\(.*\)"/\1/p' "$CONFIG")
export REQUESTS_CA_BUNDLE
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.default

play estate.yml -e estate_state=present
trap 'play estate.yml -e estate_state=absent' EXIT

# Bad inputs stop the play before any write, with a clear message (no inventory: it runs on localhost).
refused() {  # EXPECTED_MESSAGE EXTRA_VARS_JSON
  if play segments.cloud.onboard -e "$2" > refusal.out 2>&1; then cat refusal.out; echo "accepted a bad input: $2"; exit 1; fi
  grep -qF -- "$1" refusal.out || { cat refusal.out; echo "expected: $1"; exit 1; }
  ! grep -q 'Traceback' refusal.out
}
bucket="\"$(sed -n 's/^resource_prefix: "\(.*\)"/\1/p' "$CONFIG")-ra-fresh\""
refused "value of segments_state must be one of: present, absent" "{\"segments_state\": \"maybe\", \"segments_s3_buckets\": [$bucket]}"
refused "segments_concurrency" "{\"segments_concurrency\": \"many\", \"segments_s3_buckets\": [$bucket]}"
refused "segments_s3_buckets" "{\"segments_s3_buckets\": {\"name\": $bucket}}"
refused "segments_verify" "{\"segments_verify\": \"sometimes\", \"segments_s3_buckets\": [$bucket]}"
refused "because segments_batch_size is 0" "{\"segments_batch_size\": 0, \"segments_s3_buckets\": [$bucket]}"
refused "segments_gcs_member is required when segments_gcs_buckets is set" '{"segments_gcs_buckets": ["some-bucket"]}'
refused "segments_gcp_auth_kind must be one of" '{"segments_gcp_auth_kind": "password", "segments_gcs_buckets": ["b"], "segments_gcs_member": "user:a@b.co"}'
refused "segments_azure_accounts[0]: storage account name 'Seg_Test'" '{"segments_azure_accounts": ["Seg_Test"]}'
refused "segments_azure_accounts[1] (segtest32): subscription_id 'prod' is not a GUID" \
  '{"segments_azure_accounts": ["segtest31", {"name": "segtest32", "subscription_id": "prod"}]}'
refused "segments_azure_accounts" '{"segments_azure_accounts": {"name": "segtest31"}}'
refused "origins[0] 'https://evil.example' is not a Segments origin" \
  '{"segments_azure_accounts": ["segtest31"], "segments_azure_cors_origins": ["https://evil.example"]}'
play verify.yml -e expect=untouched

# The caller's module_defaults reach the role's modules (the inventory below uses per-host variables instead).
play caller_defaults.yml

# Check mode is a truthful plan: it reports changes and writes nothing.
play -i accounts.yml segments.cloud.onboard --check --diff | tee plan.out
grep -q 'CHECK MODE: nothing was written' plan.out
play verify.yml -e expect=untouched

# Onboard; the missing bucket fails at the end, after the summary, without stopping the others.
set +e
play -i accounts.yml segments.cloud.onboard | tee onboard.out
onboard_status=${PIPESTATUS[0]}
set -e
[ "$onboard_status" -ne 0 ]
grep -q "1 bucket(s) failed on acct-a" onboard.out
# The summary ends with what to send Segments.ai: the GCS bucket names and the Azure tenant ID.
grep -q "What to send Segments.ai:" onboard.out
grep -q "Azure: your Microsoft Entra tenant ID .* (storage account(s) segtest31, segtest32)" onboard.out
grep -Eq "azure-tenant +azure +segtest32 +changed +yes +https://segtest32.blob.core.windows.net/labelling/" onboard.out
play verify.yml -e expect=onboarded

# A second run changes nothing.
play -i accounts.yml segments.cloud.onboard | tee again.out || true
grep -Eq 'acct-a +: ok=[0-9]+ +changed=0' again.out
grep -Eq 'acct-b +: ok=[0-9]+ +changed=0 .*failed=0' again.out
grep -Eq 'gcp-project +: ok=[0-9]+ +changed=0 .*failed=0' again.out
grep -Eq 'azure-tenant +: ok=[0-9]+ +changed=0 .*failed=0' again.out

# The audit only reads.
play -i accounts.yml segments.cloud.audit || true
play verify.yml -e expect=onboarded

# Offboarding removes only what is ours.
play -i accounts.yml segments.cloud.offboard || true
play verify.yml -e expect=untouched

# Rolling back to the first run's backup, taken before anything was onboarded, undoes a later onboarding exactly,
# for every account with its own settings; a second rollback changes nothing.
play -i accounts.yml segments.cloud.onboard || true
play verify.yml -e expect=onboarded
first_run=$(find "$PWD/backups" -mindepth 1 -maxdepth 1 -type d | sort | head -n1)
play -i accounts.yml segments.cloud.rollback -e segments_backup_run="$first_run" > rollback.out 2>&1 || { cat rollback.out; exit 1; }
cat rollback.out
grep -q "restored: .*-ra-foreign" rollback.out
grep -q "restored: segtest31, segtest32" rollback.out
play verify.yml -e expect=untouched
play -i accounts.yml segments.cloud.rollback -e segments_backup_run="$first_run" > rollback-again.out 2>&1 || { cat rollback-again.out; exit 1; }
cat rollback-again.out
grep -Eq 'acct-a +: ok=[0-9]+ +changed=0 .*failed=0' rollback-again.out
grep -Eq 'gcp-project +: ok=[0-9]+ +changed=0 .*failed=0' rollback-again.out
grep -Eq 'azure-tenant +: ok=[0-9]+ +changed=0 .*failed=0' rollback-again.out

# Without an inventory and without a member: the GCS backup holds the member and role the run granted.
play segments.cloud.rollback -e segments_backup_run="$first_run/gcp-project" -e '{"segments_gcs_api_endpoint": "{{ gcs_api_endpoint }}",
  "segments_gcp_project": "{{ gcp_project }}"}' > rollback-gcs.out 2>&1 || { cat rollback-gcs.out; exit 1; }
cat rollback-gcs.out
grep -q "already as in the backup: .*-rg-foreign" rollback-gcs.out
