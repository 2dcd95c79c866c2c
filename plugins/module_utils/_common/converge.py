# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one write-and-verify engine every writing module uses, whatever the cloud.

A module describes one thing it manages on one bucket (a bucket policy, a CORS list, an IAM policy, a role
assignment) as a ``ManagedPart``: how to read it, how to merge ours into it, how to write it, and when two states
mean the same. ``converge`` then merges, writes and reads back until the state holds our part, and keeps every
other writer's change it sees.

The cloud's write guard is the part's business:
- a conditional write (GCS: ``ifMetagenerationMatch`` / etag) raises ``WriteConflict`` when the state moved;
- a plain write (S3, Azure: nothing conditional exists) is guarded by reading right before writing
  (``ManagedPart.compare_before_write``), and by the read-back after it.

A write whose answer was lost may have landed. It is judged in one way for every cloud: the state is read back;
when it equals what was sent, the write landed; when it still equals what was merged into, it did not, and the
write's own error is raised; when it holds something else, another writer moved it, and the merge is redone on it.
When the state cannot be read back at all, the bucket's message says that the change may have been applied.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable

from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import read_after_write


class WriteConflict(Exception):
    """Raised by ManagedPart.write when a conditional write found the state changed since it was read (HTTP 409/412).

    cloud_error, when given, is the cloud's refusal as a BucketError: its message is the bucket's when every round
    ends in a conflict, or when the state cannot be read back after one."""

    def __init__(self, cloud_error: BucketError | None = None):
        super().__init__(cloud_error.message if cloud_error else "conditional write refused")
        self.cloud_error = cloud_error


@dataclass(frozen=True)
class RetryPolicy:
    """How many rounds of read, merge and write a bucket gets, and the jittered pause between two rounds."""

    attempts: int = 5
    # Cloud Storage allows about one metadata update per second per bucket, so no round follows sooner than that.
    first_pause_seconds: float = 1.0
    max_pause_seconds: float = 16.0

    def pause_seconds(self, round_index: int) -> float:
        """The pause before round round_index + 1: at least first_pause_seconds * 2**round_index, up to half again as
        much (jitter, so that buckets racing the same writer do not retry in step), never over max_pause_seconds."""
        floor = min(self.max_pause_seconds, self.first_pause_seconds * (2**round_index))
        return min(self.max_pause_seconds, floor * random.uniform(1.0, 1.5))


DEFAULT_RETRY_POLICY = RetryPolicy()


class ManagedPart:
    """One thing a module manages on one bucket. Subclass it, or build it with the keyword arguments.

    - ``read() -> state``: the current state, raising BucketError on failure.
    - ``merge(state) -> (desired, needs_write)``: pure; may raise BucketError (a size or count limit).
    - ``write(desired, merged_into)``: write desired; merged_into is the state it was merged into (a conditional
      write takes its token from it). Raises WriteConflict when a precondition failed, BucketError otherwise.
    - ``equal(first, second) -> bool``: the two states mean the same, for every part of them (ours and foreign).
    - ``compare_before_write``: read right before each write and merge again if the state moved (clouds without
      conditional writes). A conditional part leaves it off unless its state can come from elsewhere (see converge).
    """

    def __init__(
        self,
        bucket: str,
        what: str,
        info_module: str,
        read: Callable[[], Any] | None = None,
        merge: Callable[[Any], tuple] | None = None,
        write: Callable[[Any, Any], None] | None = None,
        equal: Callable[[Any, Any], bool] | None = None,
        compare_before_write: bool = True,
    ):
        self.bucket = bucket
        self.what = what
        self.info_module = info_module
        self.compare_before_write = compare_before_write
        if read is not None:
            self.read = read  # type: ignore[method-assign,assignment]
        if merge is not None:
            self.merge = merge  # type: ignore[method-assign,assignment]
        if write is not None:
            self.write = write  # type: ignore[method-assign,assignment]
        if equal is not None:
            self.equal = equal  # type: ignore[method-assign,assignment]

    def read(self) -> Any:
        raise NotImplementedError

    def merge(self, state: Any) -> tuple:
        raise NotImplementedError

    def write(self, desired: Any, merged_into: Any) -> None:
        raise NotImplementedError

    def equal(self, first: Any, second: Any) -> bool:
        return bool(first == second)

    def read_back_problem(self, read_back: Any, written: Any) -> str | None:
        """A sentence saying how a read-back differs from what was written, for the error when it never settles;
        None (the default) gives the engine's own sentence."""
        return None


@dataclass
class Outcome:
    """What converge did: before is the state merged into first, after the state as last read (or, in check mode,
    as it would be), changed whether a write of ours landed (in check mode: would be made). merged_into is the
    state our first landed write was merged into (so that merged_into -> after shows our change without another
    writer's change made before it), or, without a landed write, the state last merged into."""

    before: Any
    after: Any
    changed: bool
    merged_into: Any = None


# converge's current when the caller holds no state: the engine reads it.
NOT_READ = object()
_NOT_READ = NOT_READ


def converge(
    part: ManagedPart,
    check_mode: bool,
    current: Any = _NOT_READ,
    retry: RetryPolicy = DEFAULT_RETRY_POLICY,
    sleep: Callable[[float], None] | None = None,
) -> Outcome:
    """Merge our part into the bucket's state and write it until a read-back holds it; return an Outcome.

    current is a state already read (for example by an audit): when it already holds our part nothing more is
    read or written; when a write is needed, the state is read again right before it (the race guard), because
    current may be stale. Without current the state is read once here. Every other writer's change that a read
    sees is kept: the merge is redone on it. After retry.attempts rounds without settling, a BucketError."""
    sleep = sleep or time.sleep  # looked up at call time, so that tests can pause no time
    given = current is not _NOT_READ
    state = current if given else part.read()
    before = state
    wrote = False
    last_failure: BucketError | None = None
    guard_read_due = given  # a given state is read again before the first write
    landed_bases: list = []  # the states answered writes of ours were merged into
    just_read = False

    def first_base(state: Any) -> Any:
        return landed_bases[0] if landed_bases else state

    for round_index in range(retry.attempts):
        desired, needs_write = part.merge(state)
        if not needs_write:
            return Outcome(before, state, wrote, first_base(state))
        if check_mode:
            return Outcome(before, desired, True, state)
        if guard_read_due or (part.compare_before_write and round_index and not just_read):
            latest = part.read()
            guard_read_due = False
            moved = not part.equal(latest, state)
            state = latest  # the fresher read carries the write's precondition token, if the cloud has one
            if moved:
                just_read = True  # merged again at once on what was just read, so not read again first
                continue  # another writer moved it since it was read: merge into what is there now
        just_read = False
        last_failure = None
        try:
            part.write(desired, state)
        except WriteConflict as conflict:
            # Our own earlier attempt may have landed (its answer lost, the client's retry then met the precondition
            # it had made stale), or another writer moved the state: the read-back tells which.
            refused = conflict.cloud_error or BucketError(
                part.bucket,
                "update %s" % part.what,
                "the conditional write was refused because the %s changed since it was read" % part.what,
            )
            latest = _read_back(part, refused)
            if part.equal(latest, desired):
                return Outcome(before, latest, True, first_base(state))
            last_failure = refused if conflict.cloud_error else None
            state = latest
        except BucketError as write_error:
            latest = _read_back(part, write_error)
            if part.equal(latest, state):
                if not write_error.in_flight or round_index + 1 == retry.attempts:
                    raise  # nothing was applied: the state is the one this write was merged into
                # No answer came, so the write may still land: write again (a conditional write then meets the
                # late one's change as a conflict, and the read-back tells whose it is).
                last_failure = write_error
            if part.equal(latest, desired) or not part.merge(latest)[1]:
                return Outcome(before, latest, True, first_base(state))  # the write landed although its answer was lost
            state = latest  # another writer moved it: merge again into what is there now
        else:
            wrote = True
            landed_bases.append(state)
            latest = _read_back(part, None)
            if part.equal(latest, desired) or not part.merge(latest)[1]:
                return Outcome(before, latest, True, first_base(state))
            problem = part.read_back_problem(latest, desired)
            if problem:
                last_failure = BucketError(
                    part.bucket,
                    "verify %s" % part.what,
                    "%s, and it stayed so through %d rounds of merging again" % (problem, retry.attempts),
                    "Another tool keeps writing this bucket's %s; let it finish, then run again" % part.what,
                )
            state = latest  # another writer's change, made from a stale copy, dropped ours: merge again
        if round_index + 1 < retry.attempts:
            sleep(retry.pause_seconds(round_index))
    if last_failure is not None:
        raise last_failure  # the cloud's or the part's own words for how the last round failed
    raise BucketError(
        part.bucket,
        "update %s" % part.what,
        "the %s kept changing under another writer during %d attempts to merge into it, so it did not settle"
        % (part.what, retry.attempts),
        "Find the other tool writing it, let it finish, and run again; check the result with %s" % part.info_module,
    )


def _read_back(part: ManagedPart, failed_write: BucketError | None) -> Any:
    """The state after a write, with read_after_write's tries. When it cannot be read: a WriteOutcomeUnknown saying
    that the change may have been applied (failed_write: the write's error) or was applied but not verified."""
    return read_after_write(part.bucket, part.what, part.read, part.info_module, failed_write)


def known_state(bucket_states: dict | None, bucket: str, field: str, null_is_state: bool = True) -> Any:
    """The field of bucket's entry in bucket_states (entries as an info module returns them), to pass to converge as
    current; NOT_READ when there is no such entry, it failed, it says the bucket does not exist, or it lacks the
    field (or holds null there and null_is_state is False), so that the engine reads the state itself."""
    entry = (bucket_states or {}).get(bucket)
    if not isinstance(entry, dict) or entry.get("failed") or entry.get("exists") is False or field not in entry:
        return NOT_READ
    if entry[field] is None and not null_is_state:
        return NOT_READ
    return entry[field]
