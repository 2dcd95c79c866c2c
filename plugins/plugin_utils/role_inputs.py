# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The onboarding role's check of the options it gives every bucket, before anything is read or written.

Each apply module refuses a bad option on its own, but the role runs them one after the other: a bad CORS origin
found by the CORS step would come after the policy or IAM step had written. So the role asks the modules' own
validators first, through the segments.cloud.onboard_input_problems filter. Pure; no I/O.
"""

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.module_utils._gcs import cors as gcs_cors
from ansible_collections.segments.cloud.plugins.module_utils._gcs import custom_role
from ansible_collections.segments.cloud.plugins.module_utils._gcs import iam as gcs_iam
from ansible_collections.segments.cloud.plugins.module_utils._s3 import cors as s3_cors
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import validate_principal


def onboard_input_problems(
    s3_buckets, gcs_buckets, principal, origins, gcs_member, gcs_role, gcs_role_id=None, gcs_role_permissions=None
):
    """The problems (sentences with their remedy) of the options the role passes to the S3 and GCS apply modules,
    as those modules would state them; only the clouds that have buckets are checked. An empty gcs_role means the
    custom role the role manages, so its ID and permissions are checked instead."""
    problems = []
    if s3_buckets:
        problems.append(validate_principal(principal))
        problems.append(s3_cors.validate_origins(origins))
    if gcs_buckets:
        problems.append(gcs_cors.validate_origins(origins))
        if gcs_member:
            problems.append(gcs_iam.validate_member(gcs_member))
        if gcs_role:
            problems.append(gcs_iam.validate_role(gcs_role))
        else:
            problems.append(custom_role.validate_role_id(gcs_role_id or custom_role.SEGMENTS_ROLE_ID))
            if gcs_role_permissions is not None:
                problems.append(custom_role.validate_permissions(gcs_role_permissions))
    return [problem for problem in problems if problem]
