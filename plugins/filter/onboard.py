# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters the onboarding role uses to group buckets and to build its summary (docs in the .yml files beside this one)."""

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.plugin_utils.readiness import s3_readiness_after
from ansible_collections.segments.cloud.plugins.plugin_utils.report import (
    bucket_names_not_failed,
    bucket_regions,
    bucket_results,
    bucket_states,
    changed_bucket_names,
    host_rows,
    input_bucket_names,
    s3_bucket_groups,
    s3_bucket_names,
    summary_rows,
    summary_table,
)
from ansible_collections.segments.cloud.plugins.plugin_utils.role_inputs import onboard_input_problems


class FilterModule:
    def filters(self):
        return {
            "bucket_names_not_failed": bucket_names_not_failed,
            "bucket_regions": bucket_regions,
            "bucket_results": bucket_results,
            "bucket_states": bucket_states,
            "changed_bucket_names": changed_bucket_names,
            "host_rows": host_rows,
            "input_bucket_names": input_bucket_names,
            "onboard_input_problems": onboard_input_problems,
            "s3_bucket_groups": s3_bucket_groups,
            "s3_bucket_names": s3_bucket_names,
            "s3_readiness_after": s3_readiness_after,
            "summary_rows": summary_rows,
            "summary_table": summary_table,
        }
