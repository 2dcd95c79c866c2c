#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_gcs_cors
short_description: Merge the Segments.ai CORS entry into Google Cloud Storage buckets
version_added: 0.1.0
description:
  - Adds, updates or removes the CORS entry that lets the Segments.ai web app load objects of Google Cloud Storage buckets in the browser,
    the JSON the Segments setup page asks Google Cloud Storage users to apply.
  - Only the Segments entry is changed. Every other CORS entry of the bucket is kept exactly as it is, in its place.
  - "Which entries are Segments': GCS CORS entries carry no ID, so an entry counts as Segments' own when its C(origin) list is non-empty
    and every origin in it is a Segments origin (C(https://segments.ai) or C(https://<subdomain>.segments.ai), including the wildcard form
    C(https://*.segments.ai)). All such entries are replaced by the single desired entry, or all removed; every entry that names any other
    origin, even alongside a Segments origin, belongs to someone else and is kept exactly as it is, in its place."
  - The desired entry is placed where the first Segments entry was, or appended when there was none.
  - The write is a PATCH of the C(cors) field alone, never a full update of the bucket, guarded by C(if_metageneration_match) on the
    metageneration that was read. If another writer changed the bucket in between, the bucket is read again, the merge is done again on
    what is there now, and the write is retried, up to five attempts with a growing pause (Cloud Storage allows about one metadata
    update per second per bucket).
  - After a write the CORS configuration is read back and compared with what was written; a difference fails that bucket.
  - Unlike M(google.cloud.gcp_storage_bucket), which sends a full update of only the fields given and has no check mode,
    this module changes nothing but the Segments entry and supports check mode and diff.
options:
  state:
    description:
      - V(present) makes the bucket hold exactly one Segments entry with the given O(origins), O(methods), O(response_headers) and
        O(max_age_seconds).
      - V(absent) removes every Segments entry, whatever its settings; O(origins), O(methods), O(response_headers) and O(max_age_seconds)
        are then not used.
    type: str
    choices: [present, absent]
    default: present
  origins:
    description:
      - The origins of the Segments entry.
      - Every origin must be a Segments origin, C(https://segments.ai) or C(https://SUBDOMAIN.segments.ai), including the wildcard
        form C(https://*.segments.ai); anything else fails the task before any call. Because entries have no ID, an entry naming any
        other origin would count as someone else's on the next run and would be appended again every time. Give other origins
        their own entry, outside this module.
      - The default lists the origins of both versions of the Segments setup page.
      - Cloud Storage accepts C(*) as a whole origin, meaning any origin, and Google's XML API reference for the CORS C(Origin) element
        says that when the host part of an origin begins with C(*) any origin ending in the same suffix matches, so
        C(https://*.segments.ai) covers C(https://app.segments.ai) but not the bare C(https://segments.ai), which is why both are listed.
    type: list
    elements: str
    default: ["https://segments.ai", "https://*.segments.ai"]
  methods:
    description:
      - The HTTP methods the entry allows, in any case; they are written in upper case.
      - Segments only reads objects, so V(GET) is enough.
    type: list
    elements: str
    default: [GET]
  response_headers:
    description:
      - Response headers the browser may expose to Segments (the entry's C(responseHeader)).
      - The default V(["*"]) is what Segments.ai's setup page gives today. The earlier form, V([]), is still accepted.
    type: list
    elements: str
    default: ["*"]
  max_age_seconds:
    description:
      - How long a browser may cache the preflight answer, in seconds (the entry's C(maxAgeSeconds)).
    type: int
    default: 3600
notes:
  - The caller needs C(storage.buckets.get) and C(storage.buckets.update) on each bucket, for example through C(roles/storage.admin).
  - Throttled requests (HTTP 429 and 503) are retried by google-cloud-storage with exponential backoff; a bucket that is still throttled
    afterwards fails with a message saying so.
  - Entries are compared by meaning, so a Segments entry that differs only in the order of its lists or the case of its methods is left alone.
seealso:
  - module: segments.cloud.segments_gcs_access
  - module: segments.cloud.segments_gcs_info
  - name: Cross-origin resource sharing (CORS) in Cloud Storage
    description: How Cloud Storage evaluates CORS entries.
    link: https://cloud.google.com/storage/docs/cross-origin
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.fleet
  - segments.cloud.bucket_states
  - segments.cloud.gcp
  - segments.cloud.attributes
"""

EXAMPLES = r"""
- name: Let Segments.ai load objects of one bucket in the browser
  segments.cloud.segments_gcs_cors:
    name: customer-images
    project: customer-project

- name: The same for a whole fleet, with credentials set once for the play
  module_defaults:
    group/segments.cloud.gcs:
      project: customer-project
      auth_kind: serviceaccount
      service_account_file: /etc/gcp/onboarding.json
  block:
    - name: Merge the Segments entry into every bucket, eight at a time
      segments.cloud.segments_gcs_cors:
        buckets:
          - customer-images
          - customer-lidar
          - customer-video
        concurrency: 8

    - name: Only the current setup page origin, and let the browser cache the preflight for a day
      segments.cloud.segments_gcs_cors:
        name: [customer-images]
        origins: [https://segments.ai]
        max_age_seconds: 86400

- name: Preview the change without writing anything
  segments.cloud.segments_gcs_cors:
    name: customer-images
  check_mode: true
  diff: true

- name: Remove the Segments entry, keeping every other entry
  segments.cloud.segments_gcs_cors:
    name: customer-images
    state: absent
"""

RETURN = r"""
msg:
  description: A summary, or when any bucket failed, each failed bucket and why.
  returned: always
  type: str
  sample: "2 bucket(s) processed, 1 changed"
buckets:
  description: One result per distinct bucket, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The bucket name.
      returned: always
      type: str
      sample: customer-images
    changed:
      description: Whether the bucket's CORS configuration was changed (or would be, in check mode).
      returned: always
      type: bool
      sample: true
    failed:
      description: Whether this bucket failed.
      returned: always
      type: bool
      sample: false
    msg:
      description: What failed on this bucket, naming the bucket, the call and what to do about it.
      returned: when failed
      type: str
      sample: "bucket 'customer-images': update CORS failed: permission denied (403). Grant the caller storage.buckets.update on this bucket"
    location:
      description: The bucket's location.
      returned: success
      type: str
      sample: EUROPE-WEST1
    before:
      description: The bucket's CORS configuration as read before any change.
      returned: success
      type: dict
      contains:
        cors:
          description: The CORS entries, in order, as Cloud Storage returned them.
          type: list
          elements: dict
          sample: [{"origin": ["https://app.customer.example"], "method": ["GET", "PUT"], "maxAgeSeconds": 600}]
    after:
      description:
        - The bucket's CORS configuration after the change, as read back from Cloud Storage.
        - In check mode, or when nothing changed, what it would be.
      returned: success
      type: dict
      contains:
        cors:
          description: The CORS entries, in order.
          type: list
          elements: dict
          sample:
            - {"origin": ["https://app.customer.example"], "method": ["GET", "PUT"], "maxAgeSeconds": 600}
            - {"origin": ["https://segments.ai", "https://*.segments.ai"], "method": ["GET"], "responseHeader": ["*"],
               "maxAgeSeconds": 3600}
    warnings:
      description: Warnings about this bucket; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import converge
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    fleet_argument_spec,
    run_per_bucket,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.client import gcp_argument_spec
from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import (
    DEFAULT_MAX_AGE_SECONDS,
    DEFAULT_METHODS,
    DEFAULT_RESPONSE_HEADERS,
    SEGMENTS_ORIGINS,
    build_entry,
    is_segments_origin,
    merge_entry,
    remove_entries,
    validate_methods,
    validate_origins,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.io import (
    CorsPart,
    gcs_client_for_module,
    known_cors_state,
)


def desired_entry_or_fail(module):
    """The Segments entry the options describe; fails the module when an option is malformed or an origin is not Segments'."""
    params = module.params
    origins = params["origins"]
    if not origins:
        fail_on_options(module, "origins must list at least one Segments origin, such as https://segments.ai.")
    for index, origin in enumerate(origins):
        if not is_segments_origin(origin):
            fail_on_options(
                module,
                (
                    "origins[%d] %r is not a Segments origin (https://segments.ai, https://SUBDOMAIN.segments.ai or https://*.segments.ai). "
                    "GCS CORS entries have no ID, so this module recognises the Segments entry by its origins; an entry naming another origin "
                    "counts as someone else's and would be added again on every run. Give other origins their own CORS entry."
                    % (index, origin)
                ),
            )
    problem = validate_origins(origins) or validate_methods(params["methods"])
    if problem:
        fail_on_options(module, problem)
    if params["max_age_seconds"] < 0:
        fail_on_options(module, "max_age_seconds must be 0 or more, got %d." % params["max_age_seconds"])
    return build_entry(origins, params["methods"], params["response_headers"], params["max_age_seconds"])


def main():
    argument_spec = fleet_argument_spec()
    argument_spec.update(gcp_argument_spec())
    argument_spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        origins=dict(type="list", elements="str", default=list(SEGMENTS_ORIGINS)),
        methods=dict(type="list", elements="str", default=list(DEFAULT_METHODS)),
        response_headers=dict(type="list", elements="str", default=list(DEFAULT_RESPONSE_HEADERS)),
        max_age_seconds=dict(type="int", default=DEFAULT_MAX_AGE_SECONDS),
        bucket_states=dict(type="dict", default={}),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    desired_entry = desired_entry_or_fail(module)
    client = gcs_client_for_module(module)
    bucket_states = module.params["bucket_states"] or {}

    if module.params["state"] == "present":

        def merge(entries):
            return merge_entry(entries, desired_entry)
    else:
        merge = remove_entries

    def process_bucket(bucket_name):
        # The caller's read (bucket_states) stands for the first read: the engine reads again only before a write.
        current = known_cors_state(bucket_states, bucket_name)
        cors = converge(CorsPart(client, bucket_name, merge), module.check_mode, current=current)
        return dict(
            name=bucket_name,
            changed=cors.changed,
            location=cors.merged_into["location"],
            before=dict(cors=cors.merged_into["cors"]),
            after=dict(cors=cors.after["cors"]),
            warnings=[],
        )

    results = run_per_bucket(module.params["name"], module.params["concurrency"], process_bucket)
    exit_with_fleet_result(module, results, diff_key="cors")


if __name__ == "__main__":
    main()
