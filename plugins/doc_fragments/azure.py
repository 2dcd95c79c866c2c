# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The storage accounts, the authentication options (azure.azcollection's names and variables) and the
    # per-account data-plane credentials of every Azure module.
    DOCUMENTATION = r"""
requirements:
  - python >= 3.9
  - azure-storage-blob >= 12.19.0
  - azure-identity >= 1.15.0
  - azure-core >= 1.30.0
options:
  name:
    description:
      - One storage account name or a list of them.
      - A whole fleet is one module call; the accounts are processed concurrently, each on its own.
      - A failure on one account never stops the others. The task fails at the end if any account failed,
        and C(msg) names each failed account and why.
      - Repeated names are processed once.
      - A name that has no DNS name on Azure (no such account) fails that account at once, without retries.
    type: list
    elements: str
    required: true
    aliases: [account, accounts, storage_account]
  concurrency:
    description:
      - How many accounts are processed at the same time.
    type: int
    default: 16
  connection_strings:
    description:
      - Data-plane credentials, one storage connection string per account, as a dict from account name to connection string.
      - An account listed here (or in O(account_keys)) is reached on the data plane (Set Blob Service Properties);
        every other account through Azure Resource Manager with the Entra ID credentials below.
      - Each connection string must name its own account; a string for another account fails the task before any call.
      - This is how the local emulator Azurite is reached.
    type: dict
    default: {}
  account_keys:
    description:
      - Data-plane credentials, one account key per account, as a dict from account name to key.
      - The endpoint is C(https://ACCOUNT.blob.core.windows.net) (for O(cloud_environment)), or O(blob_endpoint).
    type: dict
    default: {}
  blob_endpoint:
    description:
      - The blob endpoint for the accounts in O(account_keys), with C({account}) standing for the account name,
        for example V(http://127.0.0.1:10000/{account}) for Azurite.
      - Unset means Azure's own endpoint.
    type: str
  auth_source:
    description:
      - Where the Entra ID credentials for Azure Resource Manager and Microsoft Graph come from, as in azure.azcollection.
      - V(auto) uses O(client_id), O(secret) and O(tenant) when a secret is given (or their environment variables),
        else the O(profile) of C(~/.azure/credentials) when one is named, else azure-identity's default chain
        (environment, managed identity, Azure CLI).
      - V(env) uses O(client_id), O(secret) and O(tenant) or E(AZURE_CLIENT_ID), E(AZURE_SECRET) and E(AZURE_TENANT).
      - V(credential_file) uses the O(profile) section of C(~/.azure/credentials).
      - V(cli) uses the account of C(az login); V(msi) the managed identity of the machine.
      - Not used for accounts reached on the data plane.
      - Falls back to the E(ANSIBLE_AZURE_AUTH_SOURCE) environment variable.
    type: str
    choices: [auto, cli, credential_file, env, msi]
    default: auto
  subscription_id:
    description:
      - The subscription of the storage accounts reached through Azure Resource Manager.
      - Falls back to the E(AZURE_SUBSCRIPTION_ID) environment variable.
    type: str
  client_id:
    description:
      - The application (client) ID of the service principal that runs the module.
      - Falls back to the E(AZURE_CLIENT_ID) environment variable.
    type: str
  secret:
    description:
      - The client secret of that service principal.
      - Falls back to the E(AZURE_SECRET) environment variable.
    type: str
  tenant:
    description:
      - The Microsoft Entra tenant (directory) ID.
      - Falls back to the E(AZURE_TENANT) environment variable.
    type: str
  cloud_environment:
    description:
      - The Azure cloud, V(AzureCloud), V(AzureChinaCloud) or V(AzureUSGovernment).
      - Falls back to the E(AZURE_CLOUD_ENVIRONMENT) environment variable.
    type: str
    default: AzureCloud
  profile:
    description:
      - The section of C(~/.azure/credentials) to use.
      - Falls back to the E(AZURE_PROFILE) environment variable.
    type: str
  resource_group:
    description:
      - The resource group of the storage accounts reached through Azure Resource Manager.
    type: str
  resource_groups:
    description:
      - Per-account resource groups, as a dict from account name to resource group; overrides O(resource_group).
    type: dict
    default: {}
notes:
  - Set these options once for a play with C(module_defaults) and the group C(group/segments.cloud.azure).
  - An AWX or Ansible Automation Platform B(Microsoft Azure Resource Manager) credential sets E(AZURE_SUBSCRIPTION_ID),
    E(AZURE_CLIENT_ID), E(AZURE_SECRET) and E(AZURE_TENANT), so a job template needs no extra variables;
    no storage account key is needed then.
  - This collection does not need the azure.azcollection collection or its Python requirements.
"""
