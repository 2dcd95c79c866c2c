# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converge engine against a small in-memory store: its state is a set of strings, ours is "ours"."""

from __future__ import annotations

import pytest

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import (
    ManagedPart,
    RetryPolicy,
    WriteConflict,
    converge,
)
from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError, WriteOutcomeUnknown

FAST = RetryPolicy(attempts=5, first_pause_seconds=0.0, max_pause_seconds=0.0)


class Store(ManagedPart):
    """A bucket whose state is a frozenset. script maps a call number to what happens on that call."""

    def __init__(self, state, conditional=False):
        super().__init__("b1", "thing", "segments.cloud.segments_s3_info", compare_before_write=not conditional)
        self.state = frozenset(state)
        self.conditional = conditional
        self.reads = 0
        self.writes = 0
        self.on_read = []  # callables run before a read returns, one per read, then nothing
        self.on_write = []  # callables run instead of the usual write, one per write

    def read(self):
        self.reads += 1
        if self.on_read:
            self.on_read.pop(0)(self)
        return self.state

    def merge(self, state):
        return state | {"ours"}, "ours" not in state

    def write(self, desired, merged_into):
        self.writes += 1
        if self.on_write:
            return self.on_write.pop(0)(self, desired, merged_into)
        if self.conditional and merged_into != self.state:
            raise WriteConflict()
        self.state = desired
        return None


def lose_answer(store, desired, merged_into):
    store.state = desired
    raise BucketError("b1", "write thing", "connection reset")


def fail_write(store, desired, merged_into):
    raise BucketError("b1", "write thing", "access denied", "grant it")


def foreign_write(store):
    store.state = store.state | {"foreign-late"}


def read_fails(store):
    raise BucketError("b1", "read thing", "503")


def test_a_state_that_holds_ours_is_neither_written_nor_read_again():
    store = Store({"a", "ours"})
    outcome = converge(store, False, current=frozenset({"a", "ours"}), retry=FAST)
    assert (outcome.changed, store.reads, store.writes) == (False, 0, 0)


def test_a_given_stale_state_is_read_again_before_the_write():
    store = Store({"a", "b"})
    outcome = converge(store, False, current=frozenset({"a"}), retry=FAST)
    assert outcome.changed and store.state == {"a", "b", "ours"}
    assert outcome.before == {"a"}


def test_without_a_given_state_one_read_one_write_one_read_back():
    store = Store({"a"})
    outcome = converge(store, False, retry=FAST)
    assert (outcome.before, outcome.after, outcome.changed) == ({"a"}, {"a", "ours"}, True)
    assert (store.reads, store.writes) == (2, 1)


def test_check_mode_writes_nothing_and_says_what_would_be():
    store = Store({"a"})
    outcome = converge(store, True, retry=FAST)
    assert (outcome.after, outcome.changed, store.writes, store.state) == ({"a", "ours"}, True, 0, {"a"})


def test_a_lost_answer_of_a_landed_write_is_changed():
    store = Store({"a"})
    store.on_write = [lose_answer]
    outcome = converge(store, False, retry=FAST)
    assert outcome.changed and store.state == {"a", "ours"} and store.writes == 1


def test_a_failed_write_that_did_not_land_raises_its_own_error():
    store = Store({"a"})
    store.on_write = [fail_write]
    with pytest.raises(BucketError, match="access denied"):
        converge(store, False, retry=FAST)
    assert store.state == {"a"}


def test_a_lost_answer_then_an_unreadable_state_says_the_change_may_have_been_applied():
    store = Store({"a"})
    store.on_write = [lose_answer]
    store.on_read = [lambda s: None] + [read_fails] * 3
    with pytest.raises(WriteOutcomeUnknown, match="may have been applied"):
        converge(store, False, retry=FAST, sleep=lambda _s: None)


def test_a_conflict_from_our_own_landed_write_is_changed():
    """The GCS case: our write landed, its answer was lost, the client's retry met our own new etag (409)."""
    store = Store({"a"}, conditional=True)

    def landed_then_conflict(s, desired, merged_into):
        s.state = desired
        raise WriteConflict()

    store.on_write = [landed_then_conflict]
    outcome = converge(store, False, retry=FAST)
    assert outcome.changed and outcome.after == {"a", "ours"}


def test_a_conflict_then_an_unreadable_state_says_the_change_may_have_been_applied():
    store = Store({"a"}, conditional=True)

    def landed_then_conflict(s, desired, merged_into):
        s.state = desired
        raise WriteConflict()

    store.on_write = [landed_then_conflict]
    store.on_read = [lambda s: None] + [read_fails] * 3
    with pytest.raises(WriteOutcomeUnknown, match="may have been applied"):
        converge(store, False, retry=FAST, sleep=lambda _s: None)


def test_a_conflict_with_another_writer_merges_again_and_keeps_theirs():
    store = Store({"a"}, conditional=True)

    def other_writer_first(s, desired, merged_into):
        s.state = s.state | {"theirs"}
        raise WriteConflict()

    store.on_write = [other_writer_first]
    outcome = converge(store, False, retry=FAST)
    assert store.state == {"a", "theirs", "ours"} and outcome.changed


def test_a_foreign_write_before_the_guard_read_is_kept():
    store = Store({"a"})
    store.on_read = [lambda s: None, foreign_write]  # first read, then the guard read sees the foreign write
    outcome = converge(store, False, current=frozenset({"a"}), retry=FAST)
    assert store.state == {"a", "foreign-late", "ours"} and outcome.changed


def test_a_writer_that_keeps_dropping_ours_ends_in_a_clear_error():
    store = Store({"a"})

    def drop_ours(s, desired, merged_into):
        s.state = frozenset({"a", "theirs-%d" % s.writes})

    store.on_write = [drop_ours] * 5
    with pytest.raises(BucketError, match="kept changing under another writer during 5 attempts"):
        converge(store, False, retry=FAST)


def test_a_write_without_an_answer_that_has_not_landed_yet_is_written_again():
    """A timeout: the read-back shows nothing yet, but the request may still land, so the write is made again
    rather than the bucket failed (which would be wrong the moment the late write lands)."""
    store = Store({"a"})

    def timed_out(s, desired, merged_into):
        raise BucketError("b1", "write thing", "read timeout", in_flight=True)

    store.on_write = [timed_out]
    outcome = converge(store, False, retry=FAST)
    assert outcome.changed and store.state == {"a", "ours"} and store.writes == 2


def test_a_write_without_an_answer_in_every_round_fails_with_its_error():
    store = Store({"a"})

    def timed_out(s, desired, merged_into):
        raise BucketError("b1", "write thing", "read timeout", in_flight=True)

    store.on_write = [timed_out] * 5
    with pytest.raises(BucketError, match="read timeout"):
        converge(store, False, retry=FAST)
    assert store.writes == 5 and store.state == {"a"}
