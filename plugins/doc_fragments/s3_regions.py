# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Regions found earlier in the same run, so that the S3 modules need not look them up again.
    DOCUMENTATION = r"""
options:
  bucket_regions:
    description:
      - The regions of buckets of O(name), keyed by bucket name, as a M(segments.cloud.segments_s3_info) call of the
        same run reported them (its C(buckets[].region)).
      - A bucket listed here is not looked up again, which saves one C(GetBucketLocation) call per bucket; the others
        are.
      - The onboarding role passes the regions its audit found.
    type: dict
    default: {}
"""
