# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.plugin_utils.report import (
    bucket_names_not_failed,
    bucket_regions,
    bucket_results,
    bucket_states,
    changed_bucket_names,
    host_rows,
    input_bucket_names,
    s3_bucket_groups,
    s3_bucket_names,
    summary_rows,
    summary_table,
)


def test_buckets_sharing_options_share_a_group():
    groups = s3_bucket_groups(
        [
            "a",
            {"name": "b"},
            {"name": "c", "kms": True},
            {"name": "d", "prefixes": ["img/"]},
            "e",
            {"name": "f", "kms": True},
        ]
    )
    assert groups == [
        {"names": ["a", "b", "e"], "prefixes": None, "kms": False},
        {"names": ["c", "f"], "prefixes": None, "kms": True},
        {"names": ["d"], "prefixes": ["img/"], "kms": False},
    ]


def test_group_defaults_apply_to_entries_without_their_own():
    groups = s3_bucket_groups(
        ["a", {"name": "b", "prefixes": []}, {"name": "c", "kms": False}], default_prefixes=["x/"], default_kms=True
    )
    assert groups == [
        {"names": ["a"], "prefixes": ["x/"], "kms": True},
        {"names": ["b"], "prefixes": None, "kms": True},
        {"names": ["c"], "prefixes": ["x/"], "kms": False},
    ]


def test_repeated_buckets_are_listed_once():
    assert s3_bucket_groups(["a", "a", {"name": "a"}]) == [{"names": ["a"], "prefixes": None, "kms": False}]
    assert s3_bucket_names(["a", {"name": "b"}, "a"]) == ["a", "b"]
    assert s3_bucket_groups(None) == [] and s3_bucket_names([]) == []


def _audit(*entries):
    return {"changed": False, "buckets": list(entries)}


def test_rows_combine_audit_apply_and_verify():
    audit = _audit(
        {"name": "a", "ready": False, "problems": ["no policy"], "url_prefix": "https://a/"},
        {"name": "b", "ready": True, "problems": [], "url_prefix": "https://b/"},
    )
    access = {
        "results": [
            {"buckets": [{"name": "a", "changed": True, "failed": False}]},
            {"buckets": [{"name": "b", "changed": False, "failed": False}]},
        ]
    }
    cors = {
        "failed": True,
        "buckets": [
            {"name": "a", "changed": False, "failed": False},
            {"name": "b", "changed": False, "failed": True, "msg": "bucket 'b': denied"},
        ],
    }
    verify = _audit(
        {"name": "a", "ready": True, "problems": [], "url_prefix": "https://a/"},
        {"name": "b", "ready": True, "problems": [], "url_prefix": "https://b/"},
    )
    rows = summary_rows("acct", "s3", [audit, access, cors], verify)
    assert rows == [
        {
            "host": "acct",
            "provider": "s3",
            "bucket": "a",
            "result": "changed",
            "ready": True,
            "problems": [],
            "url_prefix": "https://a/",
        },
        {
            "host": "acct",
            "provider": "s3",
            "bucket": "b",
            "result": "failed",
            "ready": False,
            "problems": ["bucket 'b': denied"],
            "url_prefix": "https://b/",
        },
    ]


def test_a_call_that_failed_before_any_bucket_fails_every_bucket():
    audit = _audit({"name": "a", "ready": False, "problems": []})
    failed_call = bucket_results({"failed": True, "msg": "no credentials"}, ["a"])
    rows = summary_rows("acct", "s3", [audit, failed_call], bucket_results({"skipped": True}))
    assert rows[0]["result"] == "failed" and rows[0]["problems"] == ["no credentials"]
    # Without the names it was given, a whole-call failure stands for every bucket.
    rows = summary_rows("acct", "s3", [audit, {"failed": True, "msg": "no credentials"}], None, names=["a"])
    assert rows[0]["result"] == "failed" and rows[0]["problems"] == ["no credentials"]


def test_skipped_steps_leave_the_audit_in_charge():
    audit = _audit({"name": "a", "ready": False, "problems": ["no CORS rule"], "url_prefix": "u"})
    rows = summary_rows("h", "gcs", [audit, {"skipped": True}, {"skipped": True}], {"skipped": True})
    assert rows == [
        {
            "host": "h",
            "provider": "gcs",
            "bucket": "a",
            "result": "ok",
            "ready": False,
            "problems": ["no CORS rule"],
            "url_prefix": "u",
        }
    ]


def test_table_lists_every_bucket_and_its_problems():
    rows = [
        {
            "host": "h",
            "provider": "s3",
            "bucket": "a",
            "result": "changed",
            "ready": True,
            "problems": [],
            "url_prefix": "https://a/",
        },
        {
            "host": "h",
            "provider": "s3",
            "bucket": "bb",
            "result": "failed",
            "ready": False,
            "problems": ["x" * 200],
            "url_prefix": "",
        },
    ]
    lines = summary_table(rows)
    assert lines[0].split() == ["HOST", "PROVIDER", "BUCKET", "RESULT", "READY", "URL", "PREFIX"]
    assert lines[2].split() == ["h", "s3", "a", "changed", "yes", "https://a/"]
    assert lines[3].split() == ["h", "s3", "bb", "failed", "no", "-"]
    assert lines[4] == "    ! " + "x" * 200
    assert lines[-1] == "2 bucket(s): 1 changed, 1 failed, 1 ready for Segments.ai"


def test_the_same_problem_is_listed_once():
    missing = {"name": "gone", "failed": True, "changed": False, "msg": "bucket 'gone': does not exist"}
    audit = _audit({"name": "gone", "exists": False, "ready": False, "problems": ["no such bucket"]})
    rows = summary_rows("h", "s3", [audit, {"buckets": [missing]}, {"buckets": [missing]}], audit)
    assert rows[0]["problems"] == ["bucket 'gone': does not exist", "no such bucket"]


def test_groups_keep_only_the_named_buckets():
    buckets = ["a", {"name": "b", "kms": True}, "c"]
    assert s3_bucket_groups(buckets, only=["c", "b"]) == [
        {"names": ["b"], "prefixes": None, "kms": True},
        {"names": ["c"], "prefixes": None, "kms": False},
    ]
    assert s3_bucket_groups(buckets, only=[]) == []


# The role registers every module call with failed_when: false, so a call that failed as a whole comes back with
# failed=false and no buckets: only the missing "buckets" tells.
WHOLE_CALL_FAILED = {
    "changed": False,
    "failed": False,
    "failed_when_result": False,
    "msg": "origins: one wildcard per origin",
}


def test_a_whole_call_failure_registered_with_failed_when_false_fails_each_of_its_buckets():
    audit = _audit({"name": "a", "ready": False, "problems": []}, {"name": "b", "ready": False, "problems": []})
    access = {
        "results": [
            {
                "item": {"names": ["a", "b"]},
                "buckets": [
                    {"name": "a", "changed": True, "failed": False},
                    {"name": "b", "changed": True, "failed": False},
                ],
            }
        ]
    }
    rows = summary_rows(
        "h", "s3", [audit, access, bucket_results(WHOLE_CALL_FAILED, ["a", "b"])], {"skipped": True}, names=["a", "b"]
    )
    assert [(row["bucket"], row["result"], row["ready"]) for row in rows] == [
        ("a", "failed", False),
        ("b", "failed", False),
    ]
    assert rows[0]["problems"] == ["origins: one wildcard per origin"]


def test_a_whole_call_failure_in_a_loop_fails_the_buckets_of_its_item():
    audit = _audit({"name": "a"}, {"name": "b"})
    access = {
        "results": [
            {"item": {"names": ["a"]}, "buckets": [{"name": "a", "changed": True, "failed": False}]},
            dict(WHOLE_CALL_FAILED, item={"names": ["b"]}),
        ]
    }
    rows = summary_rows("h", "s3", [audit, access], None, names=["a", "b"])
    assert [(row["bucket"], row["result"]) for row in rows] == [("a", "changed"), ("b", "failed")]


def test_a_failed_audit_fails_every_bucket_and_later_steps_get_none():
    assert bucket_names_not_failed(["a", "b"], [WHOLE_CALL_FAILED]) == []
    rows = summary_rows(
        "h",
        "gcs",
        [bucket_results(WHOLE_CALL_FAILED, ["a", "b"]), {"skipped": True}],
        {"skipped": True},
        names=["a", "b"],
    )
    assert [(row["bucket"], row["result"], row["problems"]) for row in rows] == [
        ("a", "failed", ["origins: one wildcard per origin"]),
        ("b", "failed", ["origins: one wildcard per origin"]),
    ]


def test_later_steps_get_only_the_buckets_no_earlier_step_failed():
    audit = _audit(
        {"name": "a", "failed": False},
        {"name": "gone", "failed": True, "msg": "does not exist"},
        {"name": "c", "failed": False},
    )
    access = {
        "results": [
            {
                "item": {"names": ["a", "c"]},
                "buckets": [
                    {"name": "a", "changed": True, "failed": False},
                    {"name": "c", "changed": False, "failed": True, "msg": "denied"},
                ],
            }
        ]
    }
    assert bucket_names_not_failed(["a", "gone", "c"], [audit]) == ["a", "c"]
    assert bucket_names_not_failed(["a", "gone", "c"], [audit, access]) == ["a"]
    assert bucket_names_not_failed(["a"], [{"skipped": True}, {"results": [], "skipped": True}]) == ["a"]


def test_a_whole_failure_of_a_later_step_falls_only_on_the_buckets_it_was_given():
    audit = _audit({"name": "a"}, {"name": "gone", "failed": True, "msg": "does not exist"})
    given = bucket_names_not_failed(["a", "gone"], [audit])
    rows = summary_rows("h", "s3", [audit, bucket_results(WHOLE_CALL_FAILED, given)], None, names=["a", "gone"])
    assert rows[0]["problems"] == ["origins: one wildcard per origin"]
    assert rows[1]["problems"] == ["does not exist"]


def test_only_changed_buckets_are_verified_and_the_others_keep_their_audit():
    audit = _audit(
        {"name": "a", "ready": False, "problems": ["no statement"], "url_prefix": "ua"},
        {"name": "b", "ready": True, "problems": [], "url_prefix": "ub"},
    )
    access = {
        "buckets": [{"name": "a", "changed": True, "failed": False}, {"name": "b", "changed": False, "failed": False}]
    }
    assert changed_bucket_names(["a", "b"], [access, {"skipped": True}]) == ["a"]
    verify = _audit({"name": "a", "ready": True, "problems": [], "url_prefix": "ua"})
    rows = summary_rows("h", "s3", [audit, access], verify, names=["a", "b"])
    assert [(row["bucket"], row["result"], row["ready"], row["problems"]) for row in rows] == [
        ("a", "changed", True, []),
        ("b", "ok", True, []),
    ]


def test_a_failed_verify_fails_its_buckets():
    audit = _audit({"name": "a"})
    access = {"buckets": [{"name": "a", "changed": True, "failed": False}]}
    verify = bucket_results({"msg": "no credentials", "failed": False}, ["a"])
    rows = summary_rows("h", "s3", [audit, access], verify, names=["a"])
    assert rows[0]["result"] == "failed" and rows[0]["problems"] == ["no credentials"]


def test_input_bucket_names_takes_whatever_was_given():
    assert input_bucket_names(["a", {"name": "b"}, {"nom": "x"}, 7], ["g", "a"]) == ["a", "b", "7", "g"]
    assert input_bucket_names({"name": "lone"}, "gcs-one") == ["lone", "gcs-one"]
    assert input_bucket_names(None, 3) == []


def test_bucket_regions_are_those_the_audit_found():
    audit = _audit(
        {"name": "a", "region": "eu-west-1"},
        {"name": "gone", "exists": False, "region": None},
        {"name": "x", "failed": True, "msg": "denied"},
    )
    assert bucket_regions(audit) == {"a": "eu-west-1"}
    assert bucket_regions({"skipped": True}) == {} and bucket_regions(None) == {}


def test_bucket_states_are_the_audit_entries_of_the_buckets_it_read():
    audit = _audit(
        {"name": "a", "exists": True, "policy": {"Statement": []}},
        {"name": "gone", "exists": False},
        {"name": "x", "failed": True, "msg": "denied"},
        {"name": "b", "exists": True},
    )
    assert bucket_states(audit) == {"a": audit["buckets"][0], "b": audit["buckets"][3]}
    assert bucket_states(audit, ["b", "gone"]) == {"b": audit["buckets"][3]}
    assert bucket_states({"skipped": True}) == {}
    # Only the parts a module takes, to keep its arguments small.
    assert bucket_states(audit, ["a", "b"], ["policy"]) == {"a": {"policy": {"Statement": []}}, "b": {}}


def test_host_rows_are_the_s3_rows_then_the_gcs_rows():
    assert host_rows({"segments_s3_rows": [1], "segments_gcs_rows": [2]}) == [1, 2]
    assert host_rows({}) == []


def test_the_summary_is_linear_in_the_bucket_count():
    # At 20,000 buckets a quadratic merge takes minutes, which the suite's run time shows; no timing is asserted.
    names = ["b%05d" % index for index in range(20000)]
    audit = _audit(*({"name": name, "ready": False, "problems": ["p"], "url_prefix": "u"} for name in names))
    access = {"results": [{"item": {"names": names}, "buckets": [{"name": name, "changed": True} for name in names]}]}
    rows = summary_rows(
        "h", "s3", [audit, access], [{"name": name, "ready": True, "problems": []} for name in names], names
    )
    assert len(rows) == 20000 and all(row["ready"] and row["result"] == "changed" for row in rows)
    assert s3_bucket_names(names + names) == names
    assert [group["names"] for group in s3_bucket_groups(names, only=names[::2])] == [names[::2]]
