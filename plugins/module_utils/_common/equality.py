# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Equality of ordered lists whose items have their own meaning-equality (CORS rules, CORS entries)."""

from __future__ import annotations

from typing import Any, Callable


def lists_equal(first: list | None, second: list | None, item_equal: Callable[[Any, Any], bool]) -> bool:
    """True when both lists hold items that item_equal calls equal, in the same order (None counts as empty)."""
    first, second = list(first or []), list(second or [])
    return len(first) == len(second) and all(map(item_equal, first, second))
