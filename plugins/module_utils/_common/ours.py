# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one rule for putting our item into a list that also holds other people's (CORS entries and rules with no ID).
Pure: no I/O; the list given is never modified."""

from __future__ import annotations

import copy
from typing import Any, Callable


def replace_ours(
    items: list | None, desired: Any, is_ours: Callable[[Any], bool], same: Callable[[Any, Any], bool]
) -> tuple[list, bool]:
    """(new_items, changed): every item of ours replaced by one copy of desired, at the place of the first of them
    (appended when there was none). Foreign items keep their place and every character. Unchanged when the list
    already holds exactly one item of ours and it means the same as desired."""
    current_items = list(items or [])
    our_items = [item for item in current_items if is_ours(item)]
    if len(our_items) == 1 and same(our_items[0], desired):
        return copy.deepcopy(current_items), False
    new_items = []
    placed = False
    for item in current_items:
        if not is_ours(item):
            new_items.append(copy.deepcopy(item))
        elif not placed:
            new_items.append(copy.deepcopy(desired))
            placed = True
    if not placed:
        new_items.append(copy.deepcopy(desired))
    return new_items, True
