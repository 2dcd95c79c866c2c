# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The object path of a Segments.ai object URL, quoted the same way for every cloud.

Pure: no I/O. Each cloud builds its own URL from it (_s3/urls.py, _gcs/urls.py); the ``segments.cloud.s3_url`` and
``segments.cloud.gcs_url`` filters wrap those. Every failure is a ValueError whose message says what to change.
"""

from __future__ import annotations

from urllib.parse import quote


def object_path(key) -> str:
    """The key as a URL path: percent-encoded except '/', with one leading '/' dropped."""
    if key is None:
        return ""
    if not isinstance(key, str):
        raise ValueError("the object key must be a string, got %s %r." % (type(key).__name__, key))
    if key.startswith("/"):
        # '/images/1.jpg' is how people write a path; S3 and Cloud Storage keys have no leading slash of their own.
        key = key[1:]
    return quote(key, safe="/")
