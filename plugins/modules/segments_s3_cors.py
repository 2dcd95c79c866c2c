#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: segments_s3_cors
short_description: Merge the Segments.ai CORS rule into S3 buckets
version_added: 0.1.0
description:
  - Adds, updates or removes the CORS rule that lets the Segments.ai web app load objects of S3 buckets in the browser.
  - Our rule is found by its C(ID), O(rule_id). Every other rule of the bucket is kept exactly as it is, in its place.
    A changed rule of ours is replaced where it stood; a missing one is appended.
  - "Which rule is ours: A CORS rule is ours when its ID is our rule ID. A rule without an ID is ours too when it lists at
    least one origin, every origin is https://segments.ai or an https origin on a segments.ai subdomain (https://*.segments.ai
    included), and it allows no method but GET and HEAD. That is the rule Segments.ai's setup page asks customers to add by
    hand, so we adopt it: it takes our ID and settings instead of standing beside a second rule, and it goes when our rule is
    removed. Every other rule is left exactly as it is."
  - A rule that already means the same (list order, repeats, method case and empty or unset fields aside) is left alone, so nothing is written.
  - S3 allows at most 100 CORS rules; a merge that would go over fails that bucket before any write.
  - Read errors are reported, never taken for "no CORS configuration"; only S3's own C(NoSuchCORSConfiguration) answer means none.
  - "After a write the CORS configuration is read back. S3 has no conditional write for CORS, so the module reads the
    configuration right before it merges and writes (and again before each retry); if the read-back differs from what was
    written, the merge is done again on the read-back and written again. At most 3 rounds; if it does not settle, the bucket fails."
  - Unlike M(community.aws.s3_cors), which replaces the whole configuration, takes a read error for "no rules" and always
    reports a change on absent, this module changes only its own rule and reports a change only when there was one.
  - A bucket in another region than O(region) works; its region is discovered (unless O(bucket_regions) gives it) and a client for it is used.
options:
  state:
    description:
      - V(present) makes the bucket's CORS configuration hold exactly one rule of ours with the given settings.
      - V(absent) removes every rule of ours, whatever its settings; when no rule is left, the CORS configuration is deleted.
        A bucket without CORS, or without our rule, is left alone.
    type: str
    choices: [present, absent]
    default: present
  origins:
    description:
      - The origins our rule allows (C(AllowedOrigins)).
      - S3 allows one C(*) per origin, so V(https://*.segments.ai) matches every subdomain; an origin with more is refused.
      - C(*) alone (any website) is refused unless O(allow_any_origin=true).
    type: list
    elements: str
    default: ["https://segments.ai", "https://*.segments.ai"]
  methods:
    description:
      - The HTTP methods our rule allows (C(AllowedMethods)), any of V(GET), V(PUT), V(POST), V(DELETE) and V(HEAD), in any case.
      - Segments only reads objects, so V(GET) is enough.
    type: list
    elements: str
    default: [GET]
  allowed_headers:
    description:
      - The request headers a preflight may ask for (C(AllowedHeaders)).
    type: list
    elements: str
    default: ["*"]
  expose_headers:
    description:
      - Response headers the browser may expose to Segments (C(ExposeHeaders)).
    type: list
    elements: str
    default: []
  max_age_seconds:
    description:
      - How long a browser may cache the preflight answer, in seconds (C(MaxAgeSeconds)). Unset leaves it to the browser.
      - Unset by default, as Segments.ai's setup page has it. Segments.ai's web app reads images with C(fetch) and
        C(<img crossorigin>), simple GET requests that send no preflight, so the max age changes nothing for them.
        A request with a header outside the CORS-safelisted ones is preflighted; without a max age Chromium keeps the
        answer 5 seconds and asks again after that, with one it keeps it up to 2 hours. Set it (for example V(3600))
        when your own app sends such requests. docs/browser.md shows what a real browser does.
    type: int
  rule_id:
    description:
      - The C(ID) that marks our rule. It is how the rule is found again, so keep it stable. At most 255 characters.
    type: str
    default: segments-cors
  allow_any_origin:
    description:
      - Allow the origin C(*), which lets any website read the bucket's objects from a browser.
    type: bool
    default: false
notes:
  - The caller needs C(s3:GetBucketLocation) (or C(s3:ListBucket) for HeadBucket), C(s3:GetBucketCORS) and C(s3:PutBucketCORS)
    (deleting the CORS configuration is also C(s3:PutBucketCORS)).
  - "What the race guard can and cannot catch: it catches another writer whose change lands after this module's write but
    before its read-back (the merge is redone on the read-back, so that change is kept), and one whose change lands before the
    last read. It cannot catch a change that lands in the few milliseconds between the last read and the write (S3 keeps this
    module's configuration and that change is lost), nor one made after the read-back. S3 offers no conditional write for CORS
    that would close that gap."
  - Bucket names are checked before any call, as in M(segments.cloud.segments_s3_access).
  - Errors name the bucket, the call and the fix; AccessDenied names the missing permission, for example C(s3:PutBucketCORS).
    Throttled calls are retried with backoff before the bucket fails.
  - Check a bucket from a browser's point of view with M(segments.cloud.segments_s3_info) and O(segments.cloud.segments_s3_info#module:preflight=true).
seealso:
  - module: segments.cloud.segments_s3_access
  - module: segments.cloud.segments_s3_info
  - module: community.aws.s3_cors
  - name: Using cross-origin resource sharing (CORS)
    description: How S3 evaluates CORS rules.
    link: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
author:
  - Segments.ai (@segments-ai)
extends_documentation_fragment:
  - segments.cloud.fleet
  - segments.cloud.bucket_states
  - segments.cloud.s3_regions
  - segments.cloud.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Let Segments.ai load objects of one bucket in the browser
  segments.cloud.segments_s3_cors:
    name: customer-images

- name: The same for a whole fleet in one call, with the AWS connection set once
  module_defaults:
    group/segments.cloud.aws:
      profile: customer-onboarding
      region: eu-west-1
  block:
    - name: Merge the Segments rule into every bucket, thirty-two at a time
      segments.cloud.segments_s3_cors:
        buckets: "{{ segments_buckets }}"
        concurrency: 32

    - name: Let the browser cache the preflight for a day and read the ETag
      segments.cloud.segments_s3_cors:
        name: [customer-images, customer-lidar]
        max_age_seconds: 86400
        expose_headers: [ETag]

- name: Preview the change without writing anything
  segments.cloud.segments_s3_cors:
    name: customer-images
  check_mode: true
  diff: true

- name: Remove the Segments rule, keeping every other rule
  segments.cloud.segments_s3_cors:
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
      description: Whether the bucket's CORS configuration was changed, or would be in check mode.
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
      sample: "bucket 'customer-images': GetBucketCors failed: access denied (AccessDenied). Grant the caller s3:GetBucketCORS on this bucket
        (or its KMS key), or check the bucket policy and SCPs for a Deny"
    region:
      description: The region the bucket lives in.
      returned: success
      type: str
      sample: eu-west-1
    before:
      description: The bucket's CORS configuration as read before any change.
      returned: success
      type: dict
      contains:
        cors_rules:
          description: The CORS rules, in order, as S3 returned them; empty when the bucket had no CORS configuration.
          type: list
          elements: dict
          sample: [{"ID": "customer-app", "AllowedOrigins": ["https://app.customer.example"], "AllowedMethods": ["GET", "PUT"]}]
    after:
      description:
        - The bucket's CORS configuration after the change, as read back from S3.
        - In check mode, or when nothing changed, what it would be.
      returned: success
      type: dict
      contains:
        cors_rules:
          description: The CORS rules, in order; empty when the CORS configuration was deleted (or there is none).
          type: list
          elements: dict
          sample:
            - {"ID": "customer-app", "AllowedOrigins": ["https://app.customer.example"], "AllowedMethods": ["GET", "PUT"]}
            - {"ID": "segments-cors", "AllowedOrigins": ["https://segments.ai", "https://*.segments.ai"], "AllowedMethods": ["GET"],
               "AllowedHeaders": ["*"]}
    warnings:
      description: Warnings about this bucket that do not fail it; they are also shown as task warnings.
      returned: success
      type: list
      elements: str
      sample: []
"""

from functools import partial

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import converge, known_state
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    exit_with_fleet_result,
    fail_on_options,
    fleet_argument_spec,
    run_per_bucket,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.client import S3Clients, SegmentsAWSModule
from ansible_collections.segments.cloud.plugins.module_utils._s3.cors import (
    DEFAULT_RULE_ID,
    SEGMENTS_ORIGINS,
    build_rule,
    merge_rule,
    remove_rule,
    validate_methods,
    validate_origins,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.io import (
    CorsPart,
    checked_bucket_names,
    count_checked_cors_merge,
)

RULE_ID_LIMIT = 255


def desired_rule_or_fail(module):
    """Our rule as the options describe it; fails the module before any call when an option is malformed."""
    params = module.params
    problems = [
        validate_origins(params["origins"], allow_any_origin=params["allow_any_origin"]),
        validate_methods(params["methods"]),
    ]
    if not params["rule_id"] or len(params["rule_id"]) > RULE_ID_LIMIT:
        problems.append("rule_id must be 1 to %d characters: it is how our rule is found again." % RULE_ID_LIMIT)
    if params["max_age_seconds"] is not None and params["max_age_seconds"] < 0:
        problems.append("max_age_seconds must be 0 or more, got %d." % params["max_age_seconds"])
    if any(problems):
        fail_on_options(module, problems)
    return build_rule(
        params["rule_id"],
        params["origins"],
        params["methods"],
        params["allowed_headers"],
        params["expose_headers"],
        params["max_age_seconds"],
    )


def main():
    argument_spec = fleet_argument_spec()
    argument_spec.update(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        origins=dict(type="list", elements="str", default=list(SEGMENTS_ORIGINS)),
        methods=dict(type="list", elements="str", default=["GET"]),
        allowed_headers=dict(type="list", elements="str", default=["*"]),
        expose_headers=dict(type="list", elements="str", default=[]),
        max_age_seconds=dict(type="int"),
        rule_id=dict(type="str", default=DEFAULT_RULE_ID),
        allow_any_origin=dict(type="bool", default=False),
        bucket_regions=dict(type="dict", default={}),
        bucket_states=dict(type="dict", default={}),
    )
    module = SegmentsAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    name_warnings = checked_bucket_names(module)
    our_rule = desired_rule_or_fail(module)
    rule_id = module.params["rule_id"]
    clients = S3Clients(module, module.params["concurrency"])
    bucket_states = module.params["bucket_states"] or {}

    def process_bucket(bucket):
        region, s3 = clients.s3_for_bucket(bucket)
        if module.params["state"] == "present":
            merge = count_checked_cors_merge(bucket, lambda rules: merge_rule(rules, our_rule))
        else:
            merge = partial(remove_rule, rule_id=rule_id)
        # The caller's read (bucket_states) stands for the first read: the engine reads again only before a write.
        current_rules = known_state(bucket_states, bucket, "cors_rules")
        cors = converge(CorsPart(s3, bucket, merge), module.check_mode, current=current_rules)
        return dict(
            name=bucket,
            changed=cors.changed,
            region=region,
            before=dict(cors_rules=cors.before),
            after=dict(cors_rules=cors.after),
            warnings=list(name_warnings.get(bucket, [])),
        )

    results = run_per_bucket(module.params["name"], module.params["concurrency"], process_bucket)
    exit_with_fleet_result(module, results, diff_key="cors_rules")


if __name__ == "__main__":
    main()
