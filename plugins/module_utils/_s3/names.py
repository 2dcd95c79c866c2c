# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one S3 bucket-name rule: today's naming rules, legacy us-east-1 names, and what a virtual-hosted URL needs.

Used by every S3 module and by the s3_url filter. Pure: no I/O."""

from __future__ import annotations

import re


def validate_bucket_name(name) -> str | None:
    """Return an error sentence naming the bucket and the S3 naming rule it breaks, else None."""
    if not isinstance(name, str):
        return "bucket name %r must be a string." % (name,)
    if not 3 <= len(name) <= 63:
        return "bucket name '%s' must be between 3 and 63 characters long." % name
    if not _BUCKET_CHARACTERS.match(name):
        return "bucket name '%s' may contain only lowercase letters, digits, dots and hyphens." % name
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "bucket name '%s' must begin and end with a letter or a digit." % name
    if ".." in name:
        return "bucket name '%s' must not contain two adjacent dots." % name
    if _IP_ADDRESS.match(name):
        return "bucket name '%s' must not be formatted as an IP address." % name
    if name.startswith("xn--"):
        return "bucket name '%s' must not start with 'xn--'." % name
    for suffix in ("-s3alias", "--ol-s3"):
        if name.endswith(suffix):
            return "bucket name '%s' must not end with '%s'." % (name, suffix)
    return None


# Before March 2018, buckets in us-east-1 could have names of up to 255 characters with upper case and underscores.
LEGACY_BUCKET_NAME = re.compile(r"^[A-Za-z0-9._-]{3,255}$", re.ASCII)


def check_bucket_name(name) -> tuple:
    """Return (error, warnings) for a bucket name: error when no bucket can have it, else None and warnings for a legacy name."""
    problem = validate_bucket_name(name)
    if problem is None:
        return None, []
    if isinstance(name, str) and LEGACY_BUCKET_NAME.match(name):
        return None, [
            "the name breaks today's S3 naming rules: %s Only a legacy bucket created in us-east-1 before March 2018 "
            "can have such a name, and virtual-hosted HTTPS URLs (https://BUCKET.s3.REGION.amazonaws.com/) will not work for it, "
            "so Segments cannot load its objects; copy the data to a bucket with a valid name" % problem
        ]
    if isinstance(name, str) and not 3 <= len(name) <= 255:
        problem = "bucket name '%s' must be 3 to 63 characters long (up to 255 for a legacy us-east-1 bucket)." % name
    elif isinstance(name, str):
        problem = (
            "bucket name '%s' may contain only lowercase letters, digits, dots and hyphens "
            "(a legacy us-east-1 bucket also upper case letters and underscores)." % name
        )
    return problem + " No S3 bucket can have this name; check the spelling.", []


_BUCKET_CHARACTERS = re.compile(r"^[a-z0-9.-]+$", re.ASCII)


_IP_ADDRESS = re.compile(r"^\d+\.\d+\.\d+\.\d+$", re.ASCII)
