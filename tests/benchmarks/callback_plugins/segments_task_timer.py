# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: segments_task_timer
type: aggregate
short_description: Record when each task starts, for the fleet benchmark
description:
  - Writes a JSON list of {name, start} (wall-clock seconds) per task, and the end of the run, to the file named by the
    environment variable E(SEGMENTS_BENCHMARK_TASK_TIMES). The benchmark uses it to attribute time and API calls to
    tasks.
  - Does nothing when the variable is unset. Only for tests/benchmarks/fleet.py; not part of the collection.
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """Task start times, written at the end of the playbook run."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "segments_task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._task_starts = []
        self._started = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_starts.append({"name": task.get_name(), "start": time.time()})

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("SEGMENTS_BENCHMARK_TASK_TIMES")
        if not path:
            return
        with open(path, "w", encoding="utf-8") as times_file:
            json.dump({"started": self._started, "ended": time.time(), "tasks": self._task_starts}, times_file)
