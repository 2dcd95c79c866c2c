# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import re

from ansible_collections.segments.cloud.plugins.module_utils._common.equality import lists_equal
from ansible_collections.segments.cloud.plugins.module_utils._common.ours import replace_ours
from ansible_collections.segments.cloud.plugins.module_utils._common.segments import (
    SEGMENTS_ORIGINS,
    is_segments_origin,
)  # noqa: F401 (re-exported)

DEFAULT_METHODS = ["GET"]
# As Segments.ai's setup page gives it today; the seeds' earlier [] stays accepted as an option.
DEFAULT_RESPONSE_HEADERS = ["*"]
DEFAULT_MAX_AGE_SECONDS = 3600
ALLOWED_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH")

OWNERSHIP_RULE_DOC = (
    "GCS CORS entries carry no ID, so an entry counts as Segments' own when its C(origin) list is non-empty and every origin in it is a "
    "Segments origin (C(https://segments.ai) or C(https://<subdomain>.segments.ai), including the wildcard form C(https://*.segments.ai)). "
    "All such entries are replaced by the single desired entry, or all removed; every entry that names any other origin, "
    "even alongside a Segments origin, belongs to someone else and is kept exactly as it is, in its place."
)

WILDCARD_ORIGIN_DOC = (
    "Cloud Storage accepts C(*) as a whole origin, meaning any origin, and Google's XML API reference for the CORS C(Origin) element says that "
    "when the host part of an origin begins with C(*) any origin ending in the same suffix matches, so C(https://*.segments.ai) covers "
    "C(https://app.segments.ai) but not the bare C(https://segments.ai), which is why both are listed."
)

# re.ASCII matters: without it IGNORECASE lets look-alikes such as U+017F (long s) or U+212A (Kelvin sign) match "s" and "k".
_ORIGIN_RE = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>\[[0-9a-f:.]+\]|[a-z0-9*_.-]+)(?::(?P<port>[0-9]{1,5}|\*))?",
    re.IGNORECASE | re.ASCII,
)


def build_entry(
    origins: list | None = None,
    methods: list | None = None,
    response_headers: list | None = None,
    max_age_seconds: int | None = DEFAULT_MAX_AGE_SECONDS,
) -> dict:
    """Return a new CORS entry dict in the shape bucket.cors uses; methods are upper-cased, missing lists get the defaults.

    Never keeps a reference to the lists passed in; a max_age_seconds of None leaves maxAgeSeconds out."""
    desired_entry: dict = {
        "origin": list(SEGMENTS_ORIGINS if origins is None else origins),
        "method": [method.upper() for method in (DEFAULT_METHODS if methods is None else methods)],
        "responseHeader": list(DEFAULT_RESPONSE_HEADERS if response_headers is None else response_headers),
    }
    if max_age_seconds is not None:
        desired_entry["maxAgeSeconds"] = max_age_seconds
    return desired_entry


def is_ours(entry) -> bool:
    """True if entry's origin list is non-empty and every origin in it is a Segments origin (see OWNERSHIP_RULE_DOC).

    A malformed entry (not a dict, origin not a list) is never ours, so it is always kept."""
    if not isinstance(entry, dict):
        return False
    origins = entry.get("origin")
    return isinstance(origins, list) and len(origins) > 0 and all(is_segments_origin(origin) for origin in origins)


def _as_set(values, fold_case: bool = False):
    """Reduce a CORS list to a set of comparable keys; repr keeps unhashable or odd values comparable instead of crashing."""
    if values is None:
        values = []
    if not isinstance(values, list):
        return ("not-a-list", repr(values))
    return frozenset(repr(value.upper() if fold_case and isinstance(value, str) else value) for value in values)


def _meaning(entry) -> tuple:
    """Reduce an entry to what GCS acts on: list order and duplicates dropped, methods upper-cased, absent lists empty."""
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        return ("not-a-dict", repr(entry))
    extra_keys = {
        key: value for key, value in entry.items() if key not in ("origin", "method", "responseHeader", "maxAgeSeconds")
    }
    return (
        _as_set(entry.get("origin")),
        _as_set(entry.get("method"), fold_case=True),
        _as_set(entry.get("responseHeader")),
        entry.get("maxAgeSeconds"),
        repr(sorted(extra_keys.items(), key=lambda item: str(item[0]))),
    )


def entries_equal(a, b) -> bool:
    """True if CORS entries a and b mean the same to GCS: list order and duplicates ignored, methods case-insensitive,
    a missing list equal to [], a missing maxAgeSeconds equal to None. Neither argument is modified."""
    return _meaning(a) == _meaning(b)


def foreign_entries(entries) -> list:
    """Return deep copies of the entries that are not ours, in their original order; entries may be None."""
    return [copy.deepcopy(entry) for entry in entries or [] if not is_ours(entry)]


def merge_entry(entries, desired_entry: dict) -> tuple[list, bool]:
    """Return (new_entries, changed): all our entries replaced by one copy of desired_entry at the position of the first of them
    (appended if there were none). Foreign entries are kept exactly and in order; entries may be None and is never modified."""
    if not is_ours(desired_entry):
        # A desired entry that fails the ownership rule would be seen as foreign on the next run and appended again forever.
        raise ValueError(
            "the desired CORS entry must name only Segments origins, got origin=%r"
            % (desired_entry or {}).get("origin")
        )
    return replace_ours(entries, desired_entry, is_ours, entries_equal)


def remove_entries(entries) -> tuple[list, bool]:
    """Return (new_entries, changed) with every entry of ours dropped; foreign entries are kept exactly and in order.

    Returns [] when nothing is left; entries may be None and is never modified."""
    current_entries = list(entries or [])
    kept_entries = foreign_entries(current_entries)
    return kept_entries, len(kept_entries) != len(current_entries)


def validate_origins(origins, allow_any_origin: bool = False) -> str | None:
    """Return None if origins is a non-empty list of scheme://host[:port] strings with at most one * each, else a sentence
    saying what is wrong. A bare * is refused unless allow_any_origin is True."""
    if not isinstance(origins, list) or not origins:
        return "origins must be a non-empty list of origins such as https://segments.ai, got %r." % (origins,)
    for index, origin in enumerate(origins):
        if not isinstance(origin, str):
            return "origins[%d] must be a string such as https://segments.ai, got %r." % (index, origin)
        if origin == "*":
            if allow_any_origin:
                continue
            return (
                "origins[%d] is \"*\", which lets every website read this bucket from a browser; "
                "set allow_any_origin to true if that is really intended." % index
            )
        if origin.count("*") > 1:
            return "origins[%d] %r contains more than one \"*\"; an origin may contain at most one wildcard." % (
                index,
                origin,
            )
        origin_match = _ORIGIN_RE.fullmatch(origin)
        port = origin_match.group("port") if origin_match else None
        if origin_match is None or (port not in (None, "*") and not 0 < int(port) < 65536):
            return (
                "origins[%d] %r is not an origin of the form scheme://host[:port] (no path, no trailing slash), "
                "for example https://segments.ai." % (index, origin)
            )
    return None


def validate_methods(methods) -> str | None:
    """Return None if methods is a non-empty list of HTTP methods from ALLOWED_METHODS (any case), else a sentence saying what is wrong."""
    if not isinstance(methods, list) or not methods:
        return "methods must be a non-empty list of HTTP methods such as GET, got %r." % (methods,)
    for index, method in enumerate(methods):
        if not isinstance(method, str) or method.upper() not in ALLOWED_METHODS:
            return "methods[%d] %r is not one of %s." % (index, method, ", ".join(ALLOWED_METHODS))
    return None


def entry_lists_equal(first: list | None, second: list | None) -> bool:
    """True when both lists hold CORS entries that mean the same to GCS, in the same order (None counts as none)."""
    return lists_equal(first, second, entries_equal)


def cors_read_back_problem(read_back_entries, written_entries) -> str | None:
    """None if the CORS read back means the same as what was written, entry by entry in order, else a sentence
    saying what differs."""
    if not entry_lists_equal(
        [entry for entry in read_back_entries or [] if is_ours(entry)],
        [entry for entry in written_entries or [] if is_ours(entry)],
    ):
        return "the Segments CORS entry read back after the write is not the one written"
    if not entry_lists_equal(read_back_entries, written_entries):
        return "the other CORS entries read back after the write are not the ones written"
    return None
