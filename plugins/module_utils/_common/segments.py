# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import re

# What Segments.ai itself is, as its setup page gives it: shared by every cloud's merge rules.
SEGMENTS_PRINCIPAL = "arn:aws:iam::931508227573:user/segmentsai-prod-user"
# Both versions of the setup page: one names https://segments.ai, the other https://*.segments.ai.
SEGMENTS_ORIGINS = ["https://segments.ai", "https://*.segments.ai"]

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# ASCII only, so that look-alike letters (for example U+017F) cannot pass as Segments' hosts.
_SEGMENTS_ORIGIN_RE = re.compile(r"https://(?:\*\.)?(?:%s\.)*segments\.ai" % _LABEL, re.IGNORECASE | re.ASCII)


def is_segments_origin(origin) -> bool:
    """True if origin is https://segments.ai or https://<sub>.segments.ai (host case-insensitive, *.segments.ai
    included).

    Anything else, including http://, ports, paths and look-alike hosts such as segments.ai.evil.com, is False."""
    return isinstance(origin, str) and _SEGMENTS_ORIGIN_RE.fullmatch(origin) is not None
