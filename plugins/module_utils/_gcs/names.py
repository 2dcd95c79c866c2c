# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one Cloud Storage bucket-name rule, used by every GCS module and by the gcs_url filter. Pure: no I/O."""

from __future__ import annotations

import re

_BUCKET_NAME_COMPONENT_RE = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?", re.ASCII)


_IPV4_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}", re.ASCII)


def validate_bucket_name(name) -> str | None:
    """Return None if name follows Cloud Storage's bucket naming rules, else a sentence saying which rule it breaks."""
    if not isinstance(name, str) or not name:
        return "bucket name %r is empty or not a string." % (name,)
    prefix = "bucket name %r is not a valid Cloud Storage bucket name: " % name
    limit = 222 if "." in name else 63
    if not 3 <= len(name) <= limit:
        return prefix + "it must be 3 to 63 characters long (up to 222 with dots, 63 per dot-separated part)."
    components = name.split(".")
    if not all(_BUCKET_NAME_COMPONENT_RE.fullmatch(component) for component in components):
        return prefix + (
            "use only lowercase letters, digits, '-', '_' and '.', start and end each dot-separated part "
            "with a letter or digit, and keep each part at most 63 characters."
        )
    if _IPV4_RE.fullmatch(name):
        return prefix + "it must not be an IP address."
    if name.startswith("goog") or "google" in name:
        return prefix + "it must not start with 'goog' or contain 'google'."
    return None
