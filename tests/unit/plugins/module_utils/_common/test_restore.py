# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import ManagedPart, converge
from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._common.restore import (
    backup_value,
    backups_by_bucket,
    guarded_restore,
    place_difference,
    read_backup_file,
    record_problem,
    refusal,
)
from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import entry_lists_equal
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam import bindings_equal
from ansible_collections.segments.cloud.plugins.module_utils._gcs.restore import (
    gcs_cors_differences,
    iam_differences,
    restored_iam_policy,
)
from ansible_collections.segments.cloud.plugins.module_utils._s3.policy import policies_equal
from ansible_collections.segments.cloud.plugins.module_utils._s3.restore import policy_differences, s3_cors_differences

HYPOTHESIS_SETTINGS = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)

SID = "segments-s3-access"
KMS_SID = "segments-kms-decrypt"
RULE_ID = "segments-cors"
MEMBER = "serviceAccount:segments-reader@segments-prod.iam.gserviceaccount.com"
ROLE = "roles/storage.objectViewer"

OUR_STATEMENT = {
    "Sid": SID,
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::931508227573:user/segmentsai-prod-user"},
    "Action": ["s3:GetObject"],
    "Resource": "arn:aws:s3:::b/*",
}
DATA_TEAM = {
    "Sid": "DataTeamRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:role/data-team"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::b/*",
}
AUDIT = {
    "Sid": "Audit",
    "Effect": "Allow",
    "Principal": {"AWS": "111122223333"},
    "Action": ["s3:GetBucketPolicy", "s3:ListBucket"],
    "Resource": "arn:aws:s3:::b",
}
TLS_DENY = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}

OUR_RULE = {
    "ID": RULE_ID,
    "AllowedOrigins": ["https://segments.ai", "https://*.segments.ai"],
    "AllowedMethods": ["GET"],
    "AllowedHeaders": ["*"],
}
WEBAPP_RULE = {
    "ID": "webapp",
    "AllowedOrigins": ["https://app.example.com"],
    "AllowedMethods": ["GET", "PUT"],
    "AllowedHeaders": ["*"],
}
ID_LESS_RULE = {"AllowedOrigins": ["https://b.example.com", "https://a.example.com"], "AllowedMethods": ["GET"]}

OUR_ENTRY = {
    "origin": ["https://segments.ai", "https://*.segments.ai"],
    "method": ["GET"],
    "responseHeader": [],
    "maxAgeSeconds": 3600,
}
CUSTOMER_ENTRY = {"origin": ["https://app.customer.example"], "method": ["GET", "PUT"], "maxAgeSeconds": 600}
OTHER_ENTRY = {"origin": ["*"], "method": ["GET"]}

ADMIN_BINDING = {
    "role": "roles/storage.admin",
    "members": ["user:owner@customer.example", "group:ops@customer.example"],
}
VIEWER_BINDING = {"role": ROLE, "members": ["user:alice@customer.example"]}
CONDITION = {"title": "only-images", "expression": 'resource.name.startsWith("projects/_/buckets/b/objects/images/")'}


def _policy(*statements, **top_level):
    policy = {"Version": "2012-10-17", "Statement": [copy.deepcopy(statement) for statement in statements]}
    policy.update(top_level)
    return policy


def _iam(*bindings):
    return {"bindings": [copy.deepcopy(binding) for binding in bindings]}


# The sentences that say what differs


def test_the_sentences_name_each_foreign_change_and_leave_ours_out():
    backup = _policy(DATA_TEAM, OUR_STATEMENT)
    changed_data_team = dict(DATA_TEAM, Action=["s3:GetObject", "s3:PutObject"])
    changed_ours = dict(OUR_STATEMENT, Action=["s3:GetObject", "s3:ListBucket"])
    current = _policy(changed_data_team, AUDIT, changed_ours)
    sentences = policy_differences(backup, current, SID) + s3_cors_differences(
        [WEBAPP_RULE, OUR_RULE], [OUR_RULE], RULE_ID
    )
    assert sentences == ["statement DataTeamRead changed", "statement Audit added", "CORS rule webapp removed"]
    message = refusal("b", sentences).message
    assert message.startswith("bucket 'b': restore failed: refused")
    assert "statement DataTeamRead changed; statement Audit added; CORS rule webapp removed" in message
    assert "force=true" in message


def test_a_removed_statement_is_named():
    assert policy_differences(_policy(DATA_TEAM, AUDIT), _policy(AUDIT), SID) == ["statement DataTeamRead removed"]


def test_only_our_statement_changing_is_no_difference():
    assert policy_differences(None, _policy(OUR_STATEMENT), SID) == []
    assert policy_differences(_policy(OUR_STATEMENT), None, SID) == []
    assert policy_differences(_policy(DATA_TEAM), _policy(DATA_TEAM, OUR_STATEMENT), SID) == []


def test_order_and_representation_of_foreign_statements_do_not_count():
    backup = _policy(DATA_TEAM, AUDIT, TLS_DENY)
    reordered = dict(TLS_DENY, Action=["s3:*"], Resource=list(reversed(TLS_DENY["Resource"])))
    audit_as_root_arn = dict(
        AUDIT, Principal={"AWS": ["arn:aws:iam::111122223333:root"]}, Action=["s3:listbucket", "s3:GetBucketPolicy"]
    )
    data_team_as_list = dict(DATA_TEAM, Action=["s3:GetObject"], Resource=["arn:aws:s3:::b/*"])
    assert (
        policy_differences(backup, _policy(OUR_STATEMENT, reordered, audit_as_root_arn, data_team_as_list), SID) == []
    )


def test_a_single_object_statement_equals_a_list_holding_it():
    assert (
        policy_differences({"Version": "2012-10-17", "Statement": copy.deepcopy(DATA_TEAM)}, _policy(DATA_TEAM), SID)
        == []
    )


def test_statements_without_a_sid_are_named_by_what_they_do():
    assert policy_differences(_policy(TLS_DENY), _policy(), SID) == ["statement without a Sid (Deny s3:*) removed"]
    assert policy_differences(_policy(), _policy(TLS_DENY), SID) == ["statement without a Sid (Deny s3:*) added"]


def test_a_changed_policy_id_is_named():
    assert policy_differences(_policy(DATA_TEAM, Id="v1"), _policy(DATA_TEAM, Id="v2"), SID) == [
        'policy Id changed from "v1" to "v2"'
    ]


def test_key_policy_sentences_say_key_policy():
    root = {
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    ours = {"Sid": KMS_SID, "Effect": "Allow", "Principal": {"AWS": "x"}, "Action": "kms:Decrypt", "Resource": "*"}
    assert policy_differences(_policy(root), _policy(root, ours), KMS_SID, "key policy") == []
    assert policy_differences(_policy(root), _policy(ours), KMS_SID, "key policy") == [
        "key policy statement Enable IAM User Permissions removed"
    ]


def test_cors_rules_compare_by_meaning_and_ours_are_left_out():
    shuffled_webapp = dict(WEBAPP_RULE, AllowedMethods=["put", "GET"], ExposeHeaders=[])
    adopted_rule = {"AllowedOrigins": ["https://segments.ai"], "AllowedMethods": ["GET"]}
    assert s3_cors_differences([WEBAPP_RULE, ID_LESS_RULE], [ID_LESS_RULE, OUR_RULE, shuffled_webapp], RULE_ID) == []
    assert s3_cors_differences([WEBAPP_RULE], [adopted_rule, WEBAPP_RULE], RULE_ID) == []
    assert s3_cors_differences(None, [WEBAPP_RULE], RULE_ID) == ["CORS rule webapp added"]
    assert s3_cors_differences([WEBAPP_RULE], [dict(WEBAPP_RULE, MaxAgeSeconds=60)], RULE_ID) == [
        "CORS rule webapp changed"
    ]
    assert s3_cors_differences([ID_LESS_RULE], [], RULE_ID) == [
        "CORS rule without an ID for https://a.example.com, https://b.example.com removed"
    ]


def test_gcs_entries_compare_by_meaning_and_segments_entries_are_left_out():
    shuffled = dict(CUSTOMER_ENTRY, method=["put", "GET"], responseHeader=[])
    assert gcs_cors_differences([CUSTOMER_ENTRY, OTHER_ENTRY], [OUR_ENTRY, OTHER_ENTRY, shuffled]) == []
    assert gcs_cors_differences([CUSTOMER_ENTRY, OUR_ENTRY], [OUR_ENTRY]) == [
        "CORS entry for https://app.customer.example removed"
    ]
    assert gcs_cors_differences(None, [OTHER_ENTRY]) == ["CORS entry for * added"]
    assert gcs_cors_differences([CUSTOMER_ENTRY], [dict(CUSTOMER_ENTRY, maxAgeSeconds=60)]) == [
        "CORS entry for https://app.customer.example changed"
    ]


def test_iam_sentences_name_members_and_roles_and_leave_our_grant_out():
    backup = _iam(ADMIN_BINDING, VIEWER_BINDING)
    current = _iam(
        {"role": "roles/storage.admin", "members": ["user:owner@customer.example", "user:bob@customer.example"]},
        {"role": ROLE, "members": ["user:alice@customer.example", MEMBER]},
    )
    assert iam_differences(backup, current, ROLE, MEMBER) == [
        "IAM member group:ops@customer.example removed from roles/storage.admin",
        "IAM member user:bob@customer.example added to roles/storage.admin",
    ]


def test_iam_order_and_how_grants_are_split_do_not_count():
    backup = _iam(ADMIN_BINDING, VIEWER_BINDING)
    split = _iam(
        {"role": ROLE, "members": [MEMBER]},
        VIEWER_BINDING,
        {"role": "roles/storage.admin", "members": ["group:ops@customer.example"]},
        {"role": "roles/storage.admin", "members": ["user:owner@customer.example"]},
    )
    assert iam_differences(backup, split, ROLE, MEMBER) == []
    assert iam_differences(None, _iam({"role": ROLE, "members": [MEMBER]}), ROLE, MEMBER) == []


def test_a_conditional_grant_is_named_by_its_title_and_is_never_ours():
    conditional = {"role": ROLE, "members": [MEMBER], "condition": CONDITION}
    assert iam_differences(_iam(), _iam(conditional), ROLE, MEMBER) == [
        'IAM member %s added to %s (condition "only-images")' % (MEMBER, ROLE)
    ]


def test_a_bucket_in_another_place_is_named():
    assert place_difference("us-east-1", "us-east-1", "region") == []
    assert place_difference("EU", "eu", "location") == []
    assert place_difference(None, "eu-west-1", "region") == []
    assert place_difference("us-east-1", "eu-west-1", "region") == [
        "the bucket's region is eu-west-1 now but was us-east-1 in the backup, so it may be another bucket of the same name"
    ]


# The merge a converge loop runs


def test_guarded_restore_refuses_on_foreign_change_unless_forced():
    backup = _policy(DATA_TEAM)
    current = _policy(AUDIT, OUR_STATEMENT)

    def differences(policy):
        return policy_differences(backup, policy, SID)

    merge = guarded_restore("b", "bucket policy", backup_value(backup), differences, lambda a, b: a == b, force=False)
    with pytest.raises(BucketError) as refused:
        merge(current)
    assert refused.value.message == (
        "bucket 'b': restore failed: refused, because what is not Segments' in the bucket policy changed while the restore ran: "
        "statement DataTeamRead removed; statement Audit added; the bucket policy was not written (parts restored before it stay restored). "
        "Another tool is changing this bucket; look at those changes, then run again"
    )
    forced = guarded_restore("b", "bucket policy", backup_value(backup), differences, lambda a, b: a == b, force=True)
    assert forced(current) == (backup, True)


def test_guarded_restore_writes_only_what_differs():
    backup = _policy(DATA_TEAM)
    merge = guarded_restore(
        "b",
        "bucket policy",
        backup_value(backup),
        lambda policy: policy_differences(backup, policy, SID),
        lambda a, b: a == b,
        force=False,
    )
    assert merge(_policy(DATA_TEAM, OUR_STATEMENT)) == (backup, True)
    assert merge(copy.deepcopy(backup)) == (backup, False)


def test_a_foreign_change_during_the_restore_is_refused_before_the_write():
    backup, first_read, read_again = (
        _policy(DATA_TEAM),
        _policy(DATA_TEAM, OUR_STATEMENT),
        _policy(DATA_TEAM, AUDIT, OUR_STATEMENT),
    )
    writes = []
    merge = guarded_restore(
        "b",
        "bucket policy",
        backup_value(backup),
        lambda policy: policy_differences(backup, policy, SID),
        policies_equal,
        force=False,
    )
    part = ManagedPart(
        "b",
        "bucket policy",
        "segments.cloud.segments_s3_info",
        read=lambda: read_again,
        merge=merge,
        write=lambda policy, _merged_into: writes.append(policy),
        equal=policies_equal,
    )
    with pytest.raises(BucketError) as refused:
        converge(part, False, current=first_read)
    assert writes == []
    assert (
        "changed while the restore ran: statement Audit added; the bucket policy was not written"
        in refused.value.message
    )


def test_the_restore_writes_the_backup_and_checks_the_read_back():
    backup, state = _policy(DATA_TEAM), {"policy": _policy(DATA_TEAM, OUR_STATEMENT)}
    merge = guarded_restore(
        "b",
        "bucket policy",
        backup_value(backup),
        lambda policy: policy_differences(backup, policy, SID),
        policies_equal,
        force=False,
    )

    def write(policy, _merged_into):
        state["policy"] = policy

    part = ManagedPart(
        "b",
        "bucket policy",
        "segments.cloud.segments_s3_info",
        read=lambda: state["policy"],
        merge=merge,
        write=write,
        equal=policies_equal,
    )
    outcome = converge(part, False, current=state["policy"])
    assert outcome.changed and outcome.after == backup and state["policy"] == backup
    again = converge(part, False, current=state["policy"])
    assert (again.after, again.changed) == (backup, False)


def test_restored_iam_policy_keeps_the_etag_and_takes_the_backup_bindings():
    current = {"version": 3, "etag": "BwX=", "bindings": [VIEWER_BINDING, {"role": ROLE, "members": [MEMBER]}]}
    restored = restored_iam_policy(current, _iam(ADMIN_BINDING))
    assert restored == {"version": 3, "etag": "BwX=", "bindings": [ADMIN_BINDING]}
    assert current["bindings"][0] == VIEWER_BINDING


def test_bindings_and_entry_lists_compare_by_meaning():
    # However a grant is split into bindings, it is the same grant: [{r: [a, b]}] == [{r: [a]}, {r: [b]}].
    split = [dict(ADMIN_BINDING, members=[member]) for member in ADMIN_BINDING["members"]]
    assert bindings_equal(_iam(ADMIN_BINDING), {"bindings": split})
    assert bindings_equal({"bindings": split + [{"role": ROLE, "members": []}]}, _iam(ADMIN_BINDING))
    assert not bindings_equal({"bindings": split[:1]}, _iam(ADMIN_BINDING))
    assert bindings_equal(
        _iam(ADMIN_BINDING), _iam(dict(ADMIN_BINDING, members=list(reversed(ADMIN_BINDING["members"]))))
    )
    assert not bindings_equal(_iam(ADMIN_BINDING), _iam())
    assert bindings_equal(None, _iam())
    assert entry_lists_equal([CUSTOMER_ENTRY], [dict(CUSTOMER_ENTRY, method=["put", "get"])])
    assert not entry_lists_equal([CUSTOMER_ENTRY, OTHER_ENTRY], [OTHER_ENTRY, CUSTOMER_ENTRY])
    assert entry_lists_equal(None, [])


# Loading the backup files


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def test_backups_are_loaded_by_bucket(tmp_path):
    record = {"host": "acct", "provider": "s3", "bucket": "b", "region": "us-east-1", "policy": None, "cors_rules": []}
    path = _write(tmp_path, "b.json", record)
    assert backups_by_bucket([path], "s3") == ({"b": (path, record)}, [])


@pytest.mark.parametrize(
    "content, problem",
    [
        ("{not json", "is not valid JSON"),
        ([1, 2], "does not hold a JSON object"),
        (
            {"provider": "gcs", "bucket": "b", "cors": []},
            "holds a GCS backup; restore it with segments.cloud.segments_gcs_restore",
        ),
        ({"bucket": "b"}, "names no provider"),
        ({"provider": "s3", "policy": None, "cors_rules": []}, "names no bucket"),
        ({"provider": "s3", "bucket": "b", "policy": None}, "lacks cors_rules"),
        ({"provider": "s3", "bucket": "b", "policy": [], "cors_rules": []}, "holds a policy that is not a JSON object"),
        (
            {"provider": "s3", "bucket": "b", "policy": None, "cors_rules": [], "kms_key_policy": {}},
            "no encryption.kms_key",
        ),
    ],
)
def test_unusable_files_are_named_with_the_reason(tmp_path, content, problem):
    path = _write(tmp_path, "bad.json", content)
    found, problems = backups_by_bucket([path], "s3")
    assert found == {}
    assert len(problems) == 1 and path in problems[0] and problem in problems[0]


def test_a_missing_file_is_named(tmp_path):
    record, problem = read_backup_file(str(tmp_path / "gone.json"))
    assert record is None and "gone.json cannot be read" in problem


def test_two_files_for_one_bucket_are_refused(tmp_path):
    record = {"provider": "gcs", "bucket": "b", "cors": [], "iam_policy": None}
    first, second = _write(tmp_path, "one.json", record), _write(tmp_path, "two.json", record)
    found, problems = backups_by_bucket([first, second, first], "gcs")
    assert found == {"b": (first, record)}
    assert problems == ["backup files %s and %s both hold bucket 'b'; pass only the one to restore." % (first, second)]


def test_iam_bindings_must_be_a_list():
    assert "IAM bindings that are not a list" in record_problem(
        {"provider": "gcs", "bucket": "b", "cors": [], "iam_policy": {"bindings": {}}}, "f", "gcs"
    )


# Properties: however the foreign parts are reordered, and whatever ours holds, nothing differs.

FOREIGN_STATEMENTS = [DATA_TEAM, AUDIT, TLS_DENY, dict(DATA_TEAM, Sid="Other", Effect="Deny")]
FOREIGN_RULES = [WEBAPP_RULE, ID_LESS_RULE, dict(WEBAPP_RULE, ID="second")]
FOREIGN_ENTRIES = [
    CUSTOMER_ENTRY,
    OTHER_ENTRY,
    {"origin": ["https://segments.ai", "https://x.example"], "method": ["GET"]},
]


@HYPOTHESIS_SETTINGS
@given(
    st.permutations(FOREIGN_STATEMENTS),
    st.permutations(FOREIGN_STATEMENTS),
    st.booleans(),
    st.lists(st.sampled_from(["s3:GetObject", "s3:ListBucket", "s3:GetObjectVersion"]), min_size=1),
)
def test_reordered_foreign_statements_and_any_statement_of_ours_never_differ(
    backup_order, current_order, ours_now, our_actions
):
    current = list(current_order) + ([dict(OUR_STATEMENT, Action=our_actions)] if ours_now else [])
    assert policy_differences(_policy(*backup_order), _policy(*current), SID) == []


@HYPOTHESIS_SETTINGS
@given(st.permutations(FOREIGN_RULES), st.permutations(FOREIGN_RULES), st.integers(min_value=0, max_value=3))
def test_reordered_foreign_rules_never_differ(backup_order, current_order, our_position):
    current = list(current_order)
    current.insert(our_position, OUR_RULE)
    assert s3_cors_differences(list(backup_order), current, RULE_ID) == []


@HYPOTHESIS_SETTINGS
@given(st.permutations(FOREIGN_ENTRIES), st.permutations(FOREIGN_ENTRIES), st.integers(min_value=0, max_value=3))
def test_reordered_foreign_entries_never_differ(backup_order, current_order, our_position):
    current = list(current_order)
    current.insert(our_position, OUR_ENTRY)
    assert gcs_cors_differences(list(backup_order), current) == []


@HYPOTHESIS_SETTINGS
@given(st.permutations(FOREIGN_STATEMENTS), st.integers(min_value=0, max_value=3))
def test_dropping_any_foreign_statement_is_named(statements, dropped):
    current = [statement for position, statement in enumerate(statements) if position != dropped]
    differences = policy_differences(_policy(*statements), _policy(*current), SID)
    assert len(differences) == 1 and differences[0].endswith(" removed")
