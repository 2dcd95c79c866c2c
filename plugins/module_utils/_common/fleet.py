# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run one operation over many buckets and report the outcome the same way for every cloud.

Every module of the collection takes a list of buckets. ``run_per_bucket`` processes them on a bounded
thread pool, each bucket on its own: a failure on one bucket is recorded for that bucket and never stops
the others. ``fleet_result`` turns the per-bucket results into the module's return values.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError, WriteOutcomeUnknown

DEFAULT_CONCURRENCY = 16
# After a write, not knowing the state is worse than waiting: a read then gets this many tries (each with the client's
# own retries).
READ_AFTER_WRITE_ATTEMPTS = 3
READ_AFTER_WRITE_PAUSE_SECONDS = 0.5


def fleet_argument_spec():
    """The options every module shares: the buckets and the size of the worker pool."""
    return dict(
        name=dict(type="list", elements="str", required=True, aliases=["bucket", "buckets"]),
        concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
    )


def fleet_option_problems(params) -> list:
    """The problems of the options fleet_argument_spec adds (concurrency below 1), as sentences for fail_on_options."""
    concurrency = params["concurrency"]
    return [] if concurrency >= 1 else ["concurrency must be 1 or more, got %d." % concurrency]


def read_after_write(bucket, what, read, info_module, failed_write=None, sleep=None):
    """read(), given READ_AFTER_WRITE_ATTEMPTS tries, for the state of ``what`` on ``bucket`` after a write. When every
    try fails, a WriteOutcomeUnknown saying that the change may have been applied (failed_write: the BucketError of the
    write whose answer was lost) or was applied but not verified (failed_write None: the write was answered), and to
    check with info_module."""
    sleep = sleep or time.sleep
    for attempt in range(READ_AFTER_WRITE_ATTEMPTS):
        try:
            return read()
        except BucketError as read_error:
            if attempt + 1 < READ_AFTER_WRITE_ATTEMPTS:
                sleep(READ_AFTER_WRITE_PAUSE_SECONDS * (attempt + 1))
                continue
            reading = "reading the %s back failed (%s: %s)" % (what, read_error.action, read_error.problem)
            if failed_write is None:
                action, problem = (
                    "verify %s" % what,
                    "the %s was written, but %s, so the change was applied but not verified" % (what, reading),
                )
            else:
                action, problem = (
                    failed_write.action,
                    "%s; then %s, so the change may have been applied" % (failed_write.problem, reading),
                )
            raise WriteOutcomeUnknown(
                bucket, action, problem, "Check the bucket with %s, then run again" % info_module
            ) from None
    return None  # not reached: the last failed try raises


def options_message(bucket_names, problems, noun="bucket"):
    """The message of a whole-task failure before any bucket was tried: "bucket(s) 'a', 'b': " and then each problem.

    problems is a sentence or a list of sentences (empty ones are left out), kept whole, remedy included; with no
    bucket names (none given, or none known yet) the message is the sentences alone. noun names what the names are
    (BucketError.noun: "bucket", or "storage account" for Azure)."""
    if isinstance(problems, str):
        problems = [problems]
    text = " ".join(problem for problem in problems if problem)
    names = unique_bucket_names(name for name in bucket_names or [] if name is not None)
    if not names:
        return text
    return "%s(s) %s: %s" % (noun, ", ".join("'%s'" % name for name in names), text)


def fail_on_options(module, problems, bucket_names=None, noun="bucket"):
    """Fail the whole task, before any bucket is tried, with options_message; bucket_names default to the name
    option."""
    if bucket_names is None:
        bucket_names = module.params.get("name")
    module.fail_json(msg=options_message(bucket_names, problems, noun))


def unique_bucket_names(names):
    """The names in input order without repeats: one bucket must never be written by two workers at once."""
    seen = set()
    unique_names = []
    for name in names:
        if name not in seen:
            seen.add(name)
            unique_names.append(name)
    return unique_names


def _process_one(process_bucket, bucket):
    try:
        outcome = process_bucket(bucket)
    except BucketError as error:
        return {"name": bucket, "changed": False, "failed": True, "msg": error.message}
    except Exception as error:  # pylint: disable=broad-exception-caught
        # Anything unforeseen still fails only this bucket, with a message instead of a traceback.
        problem = "%s: %s" % (type(error).__name__, error)
        return {
            "name": bucket,
            "changed": False,
            "failed": True,
            "msg": "bucket '%s': unexpected error: %s" % (bucket, problem),
        }
    outcome.setdefault("name", bucket)
    outcome.setdefault("changed", False)
    outcome["failed"] = False
    return outcome


def run_per_bucket(bucket_names, concurrency, process_bucket):
    """Call ``process_bucket(name)`` for each distinct bucket on at most ``concurrency`` threads.

    ``process_bucket`` returns a dict for the bucket or raises; the results come back in input order,
    each with ``name``, ``changed`` and ``failed`` (and ``msg`` when failed).
    """
    names = unique_bucket_names(bucket_names)
    if not names:
        return []
    workers = max(1, min(concurrency, len(names)))
    if workers == 1:
        return [_process_one(process_bucket, name) for name in names]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="segments-bucket") as pool:
        return list(pool.map(lambda name: _process_one(process_bucket, name), names))


def _diff_side(state, diff_key):
    # One managed part shows as itself; several (a list or tuple of keys) show as a dict of those parts.
    if isinstance(diff_key, (list, tuple)):
        return {key: state.get(key) for key in diff_key}
    return state.get(diff_key)


def fleet_result(results, diff_key=None, noun="bucket"):
    """Module return values for per-bucket results: changed, buckets, failed, msg, warnings and, when
    ``diff_key`` names the managed part (or a list of parts), a diff keyed by bucket (changed buckets only). noun
    names what each result is in the messages (BucketError.noun)."""
    failed_results = [result for result in results if result["failed"]]
    changed_results = [result for result in results if result["changed"]]
    warnings = []
    for result in results:
        warnings.extend("%s '%s': %s" % (noun, result["name"], warning) for warning in result.get("warnings", []))
    summary = dict(
        changed=bool(changed_results),
        buckets=results,
        failed=bool(failed_results),
        segments_warnings=warnings,
    )
    if failed_results:
        summary["msg"] = "%d of %d %s(s) failed: %s" % (
            len(failed_results),
            len(results),
            noun,
            "; ".join(result["msg"] for result in failed_results),
        )
    else:
        summary["msg"] = "%d %s(s) processed, %d changed" % (len(results), noun, len(changed_results))
    if diff_key:
        summary["diff"] = dict(
            before={result["name"]: _diff_side(result.get("before", {}), diff_key) for result in changed_results},
            after={result["name"]: _diff_side(result.get("after", {}), diff_key) for result in changed_results},
        )
    return summary


def exit_with_fleet_result(module, results, diff_key=None, noun="bucket"):
    """Finish the module run: warn once per bucket warning, then exit, or fail when any bucket failed."""
    summary = fleet_result(results, diff_key, noun)
    for warning in summary.pop("segments_warnings"):
        module.warn(warning)
    if summary.pop("failed"):
        msg = summary.pop("msg")
        module.fail_json(msg=msg, **summary)
    module.exit_json(**summary)
