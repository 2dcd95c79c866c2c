# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Authentication and endpoint options of every GCS module; names and variables follow google.cloud.
    DOCUMENTATION = r"""
requirements:
  - python >= 3.9
  - google-cloud-storage >= 2.14.0
  - google-auth >= 2.20.0
options:
  project:
    description:
      - The Google Cloud project used for requests and quota.
      - Falls back to the E(GCP_PROJECT) environment variable.
    type: str
  auth_kind:
    description:
      - How to authenticate.
      - V(application) uses Application Default Credentials, which also honour E(GOOGLE_APPLICATION_CREDENTIALS).
      - V(serviceaccount) uses O(service_account_file) or O(service_account_contents).
      - V(machineaccount) uses the metadata server of the machine running the module.
      - V(accesstoken) uses O(access_token).
      - Falls back to the E(GCP_AUTH_KIND) environment variable.
      - An AWX or Ansible Tower Google Compute Engine credential sets E(GCP_AUTH_KIND=serviceaccount),
        E(GCP_SERVICE_ACCOUNT_FILE) and E(GCP_PROJECT), so leave these options unset to use it.
      - With O(api_endpoint) set and no application default credentials found, requests are anonymous, as an emulator
        expects.
    type: str
    choices: [application, serviceaccount, machineaccount, accesstoken]
    default: application
  service_account_file:
    description:
      - Path to a service-account JSON key file, for O(auth_kind=serviceaccount).
      - Falls back to the E(GCP_SERVICE_ACCOUNT_FILE) environment variable.
    type: path
  service_account_contents:
    description:
      - The contents of a service-account JSON key, for O(auth_kind=serviceaccount).
      - Falls back to the E(GCP_SERVICE_ACCOUNT_CONTENTS) environment variable.
    type: jsonarg
  access_token:
    description:
      - An OAuth2 access token, for O(auth_kind=accesstoken).
      - Falls back to the E(GCP_ACCESS_TOKEN) environment variable.
    type: str
  scopes:
    description:
      - OAuth2 scopes requested for the credentials.
      - Falls back to the E(GCP_SCOPES) environment variable.
    type: list
    elements: str
    default: ["https://www.googleapis.com/auth/devstorage.full_control"]
  api_endpoint:
    description:
      - The Cloud Storage endpoint, for an emulator or a private endpoint, for example V(http://127.0.0.1:9023).
      - Falls back to the E(STORAGE_EMULATOR_HOST) environment variable.
      - Unset means the public Cloud Storage API.
    type: str
notes:
  - Set these options once for a play with C(module_defaults) and the group C(group/segments.cloud.gcs).
"""
