# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Counts how many generated cases each property test ran, and prints them compactly at the end of the unit tests.

Hypothesis hands its run statistics to whatever callback ``hypothesis.statistics.collector`` holds; its own pytest
plugin sets one around each test (for --hypothesis-show-statistics). The wrapper below sits inside that one, keeps the
case counts, and passes the statistics on, so both work. SEGMENTS_HYPOTHESIS_EXAMPLES sets the cases per test (300
locally, 2,000 in CI); the summary shows whether each test reached it.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

try:
    from hypothesis.statistics import collector
except ImportError:  # the unit tests need hypothesis anyway; without it there is nothing to count
    collector = None

# nodeid -> {"valid": passing generated cases, "invalid": rejected by filters or assume, "phases": Counter of cases per
# phase}
CASES_BY_TEST = {}


def _count_cases(statistics: dict) -> dict:
    """Cases of one hypothesis run by phase (explicit, reuse, generate, shrink), and the valid and invalid generated
    ones."""
    phases = Counter()
    statuses = Counter()
    for key, phase in statistics.items():
        if not key.endswith("-phase") or not isinstance(phase, dict):
            continue
        cases = phase.get("test-cases") or []
        phases[key[: -len("-phase")]] += len(cases)
        if key == "generate-phase":
            statuses.update(case.get("status") for case in cases)
    return {
        "valid": statuses["valid"],
        "invalid": statuses["invalid"] + statuses["overrun"],
        "failing": statuses["interesting"],
        "phases": phases,
    }


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item):
    """Inside hypothesis' own wrapper (trylast puts it innermost): record this test's case counts, then hand the
    statistics on to hypothesis."""
    if collector is None or not getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        return (yield)
    passed_on = collector.value

    def record(statistics):
        CASES_BY_TEST[item.nodeid] = _count_cases(statistics)
        if passed_on is not None:
            passed_on(statistics)

    with collector.with_value(record):
        return (yield)


def pytest_terminal_summary(terminalreporter):
    """One line per property test: generated cases (valid, invalid), then the totals and the smallest count."""
    if not CASES_BY_TEST:
        return
    wanted = int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300"))
    terminalreporter.write_sep("-", "hypothesis cases per property test (SEGMENTS_HYPOTHESIS_EXAMPLES=%d)" % wanted)
    names = {nodeid: nodeid.rpartition("/")[2] for nodeid in CASES_BY_TEST}
    width = max(len(name) for name in names.values())
    for nodeid, counts in sorted(CASES_BY_TEST.items()):
        short_of = "" if counts["valid"] >= wanted else "  (fewer: every distinct case was run)"
        terminalreporter.write_line(
            "%s %5d valid %4d invalid%s" % (names[nodeid].ljust(width), counts["valid"], counts["invalid"], short_of)
        )
    valid = [counts["valid"] for counts in CASES_BY_TEST.values()]
    terminalreporter.write_line(
        "hypothesis: %d property tests, %d generated cases, fewest %d, most %d per test"
        % (len(valid), sum(valid), min(valid), max(valid))
    )
