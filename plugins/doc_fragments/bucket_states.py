# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # States read earlier in the same run, so that the apply modules need not read them again.
    DOCUMENTATION = r"""
options:
  bucket_states:
    description:
      - The states of buckets of O(name), keyed by bucket name. Each value is that bucket's entry of C(buckets) as the
        info module of its cloud returned it earlier in the same run (M(segments.cloud.segments_s3_info) for the S3
        modules, M(segments.cloud.segments_gcs_info) for the GCS modules).
      - The module takes from an entry the part it manages, and uses it in place of its first read of that part
        (C(policy) for M(segments.cloud.segments_s3_access), C(cors_rules) for M(segments.cloud.segments_s3_cors),
        C(iam_policy), C(location) and C(uniform_bucket_level_access) for M(segments.cloud.segments_gcs_access),
        C(cors) and C(location) for M(segments.cloud.segments_gcs_cors)).
      - When that part already holds ours, the bucket is neither read nor written. When a write is needed, the part is
        read again right before it (another writer may have changed it since) and read back after it, as without
        this option.
      - An entry that failed, says the bucket does not exist, or lacks the part, is ignored; such a bucket is read as
        usual, and so is every bucket not listed here.
      - The onboarding role passes the entries its audit returned.
    type: dict
    default: {}
"""
