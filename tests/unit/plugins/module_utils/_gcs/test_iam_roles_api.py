# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM roles API path over real HTTP, against the project's fake of projects.roles (tests/fakes/): no local
emulator of that API exists. The fake's own documented answers are checked first, then our client and the
converge of the custom role on top of it."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
import requests

from ansible_collections.segments.cloud.plugins.module_utils._common.converge import (
    RetryPolicy,
    WriteConflict,
    converge,
)
from ansible_collections.segments.cloud.plugins.module_utils._common.errors import BucketError
from ansible_collections.segments.cloud.plugins.module_utils._gcs.custom_role import ROLE_MARKER, desired_role
from ansible_collections.segments.cloud.plugins.module_utils._gcs.iam_roles_api import (
    ROLE_PERMISSIONS,
    CustomRolePart,
    RolesApi,
    iam_session,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "fakes"))
import gcp_iam_roles  # noqa: E402  pylint: disable=wrong-import-position

PROJECT = "customer-project"
ROLE_ID = "segmentsObjectReader"
NO_PAUSE = RetryPolicy(first_pause_seconds=0.0, max_pause_seconds=0.0)


@pytest.fixture
def fake():
    server = gcp_iam_roles.make_server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = "http://127.0.0.1:%d" % server.server_address[1]
    yield server
    server.shutdown()
    server.server_close()


def api_for(fake, project=PROJECT):
    params = dict(auth_kind="application", iam_endpoint=fake.url, project=project, scopes=None)
    return RolesApi(iam_session(params), project, fake.url)


def seed(fake, role, project=PROJECT, role_id=ROLE_ID):
    return requests.put("%s/_fake/projects/%s/roles/%s" % (fake.url, project, role_id), json=role, timeout=10).json()


def calls(fake):
    return requests.get(fake.url + "/_fake/log", timeout=10).json()["calls"]


def writes(fake):
    return [call for call in calls(fake) if not call.startswith("GET")]


def ensure(fake, check_mode=False, project=PROJECT, permissions=None):
    part = CustomRolePart(api_for(fake, project), ROLE_ID, desired_role(permissions))
    return converge(part, check_mode, retry=NO_PAUSE, sleep=lambda seconds: None)


# ---------------------------------------------------------------- the fake answers as documented


def test_fake_answers_the_documented_errors(fake):
    base = "%s/v1/projects/%s/roles" % (fake.url, PROJECT)
    body = {"roleId": ROLE_ID, "role": desired_role()}
    assert requests.get(base + "/" + ROLE_ID, timeout=10).json()["error"]["status"] == "NOT_FOUND"
    created = requests.post(base, json=body, timeout=10).json()
    again = requests.post(base, json=body, timeout=10)
    assert (again.status_code, again.json()["error"]["status"]) == (409, "ALREADY_EXISTS")
    stale = requests.patch(base + "/" + ROLE_ID, json=dict(desired_role(), etag="stale"), timeout=10)
    assert (stale.status_code, stale.json()["error"]["status"]) == (409, "ABORTED")
    not_deleted = requests.post(base + "/%s:undelete" % ROLE_ID, json={"etag": created["etag"]}, timeout=10)
    assert (not_deleted.status_code, not_deleted.json()["error"]["status"]) == (400, "FAILED_PRECONDITION")
    seed(fake, dict(desired_role(), deleted=True))
    reused = requests.post(base, json=body, timeout=10)
    assert (reused.status_code, reused.json()["error"]["status"]) == (400, "FAILED_PRECONDITION")
    denied = requests.get("%s/v1/projects/denied-project/roles/x_id" % fake.url, timeout=10)
    assert (denied.status_code, denied.json()["error"]["status"]) == (403, "PERMISSION_DENIED")


# ---------------------------------------------------------------- our client and the converge


def test_creates_the_role_once_then_changes_nothing(fake):
    first = ensure(fake)
    assert first.changed and first.before is None
    assert first.after["includedPermissions"] == ["storage.objects.get"]
    assert first.after["name"] == "projects/%s/roles/%s" % (PROJECT, ROLE_ID)
    second = ensure(fake)
    assert not second.changed
    assert writes(fake) == ["POST /v1/projects/%s/roles" % PROJECT]


def test_check_mode_plans_and_writes_nothing(fake):
    outcome = ensure(fake, check_mode=True)
    assert outcome.changed and outcome.before is None and outcome.after == desired_role()
    assert writes(fake) == []


def test_a_soft_deleted_role_is_undeleted_not_recreated(fake):
    seed(fake, dict(desired_role(), deleted=True))
    outcome = ensure(fake)
    assert outcome.changed and outcome.before["deleted"] and "deleted" not in outcome.after
    assert writes(fake) == ["POST /v1/projects/%s/roles/%s:undelete" % (PROJECT, ROLE_ID)]


def test_a_soft_deleted_marked_role_with_other_permissions_is_undeleted_then_corrected(fake):
    seed(fake, dict(desired_role(), includedPermissions=["storage.objects.list"], deleted=True))
    outcome = ensure(fake)
    assert outcome.after["includedPermissions"] == ["storage.objects.get"] and "deleted" not in outcome.after
    assert [call.split()[0] for call in writes(fake)] == ["POST", "PATCH"]


def test_a_marked_role_with_other_permissions_is_corrected_with_its_etag(fake):
    seed(fake, dict(desired_role(), includedPermissions=["storage.objects.get", "storage.objects.list"]))
    outcome = ensure(fake)
    assert outcome.changed and outcome.after["includedPermissions"] == ["storage.objects.get"]
    assert writes(fake) == ["PATCH /v1/projects/%s/roles/%s" % (PROJECT, ROLE_ID)]


def test_an_unmarked_role_with_other_permissions_is_left_alone_and_the_task_says_why(fake):
    seed(fake, {"title": "ops reader", "includedPermissions": ["storage.objects.list"]})
    with pytest.raises(BucketError) as refused:
        ensure(fake)
    assert ROLE_MARKER in refused.value.problem and refused.value.bucket == PROJECT
    assert writes(fake) == []


def test_a_role_changed_by_another_writer_between_read_and_write_is_read_again(fake):
    seed(fake, dict(desired_role(), includedPermissions=["storage.objects.list"]))
    api = api_for(fake)
    part = CustomRolePart(api, ROLE_ID, desired_role())
    real_get = api.get
    moved = []

    def get_then_move(role_id):
        role = real_get(role_id)
        if not moved:
            moved.append(seed(fake, dict(desired_role(), includedPermissions=["storage.buckets.get"])))
        return role

    api.get = get_then_move
    outcome = converge(part, False, retry=NO_PAUSE, sleep=lambda seconds: None)
    assert outcome.changed and outcome.after["includedPermissions"] == ["storage.objects.get"]
    assert [call.split()[0] for call in writes(fake)] == ["PATCH", "PATCH"]


def test_a_stale_etag_and_a_taken_id_are_write_conflicts(fake):
    api = api_for(fake)
    api.create(ROLE_ID, desired_role())
    with pytest.raises(WriteConflict):
        api.create(ROLE_ID, desired_role())
    with pytest.raises(WriteConflict):
        api.patch(ROLE_ID, desired_role(), "stale")


def test_missing_permissions_name_the_project_the_permission_and_both_ways_out(fake):
    with pytest.raises(BucketError) as denied:
        ensure(fake, project="denied-project")
    message = denied.value.message
    assert "denied-project" in message and "read custom role" in message and "iam.roles.get" in message
    assert all(permission in message for permission in ROLE_PERMISSIONS)
    assert "pass it as role" in message
    with pytest.raises(BucketError) as read_only:
        ensure(fake, project="readonly-project")
    assert "create custom role" in read_only.value.message and "iam.roles.create" in read_only.value.message


def test_an_unknown_permission_is_refused_by_the_api_with_its_message(fake):
    with pytest.raises(BucketError) as refused:
        ensure(fake, permissions=["storage.objects.frobnicate"])
    assert "Permission storage.objects.frobnicate is not valid" in refused.value.message
    assert writes(fake) == ["POST /v1/projects/%s/roles" % PROJECT]


def test_an_endpoint_where_nothing_listens_is_a_clear_error():
    params = dict(auth_kind="application", iam_endpoint="http://127.0.0.1:9", project=PROJECT, scopes=None)
    api = RolesApi(iam_session(params), PROJECT, "http://127.0.0.1:9")
    with pytest.raises(BucketError) as unreachable:
        api.get(ROLE_ID)
    assert "could not reach the IAM API" in unreachable.value.message and "iam_endpoint" in unreachable.value.message
