# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Issue 14, part 2: the playbooks run the way AWX runs them, through ansible-runner (awxjob.py says how).

Against LocalStack, with the credentials injected only as AWX's Amazon Web Services credential injects them:

- the onboard job succeeds, at -vvv, and the buckets are onboarded;
- the set_stats report is in the runner's artifacts, in the playbook_on_stats event where an AWX workflow reads it;
- no secret of the credential appears in the job events (artifacts/*/job_events/*.json) or the job's output;
- the audit job reads and reports, and writes nothing;
- with one failing account, the job fails, only at its end, and the other accounts are done;
- two job slices' inventories, run as two jobs, cover the estate exactly once.

The tests run once per cloud in ESTATES: another cloud adds its estate class (its accounts, buckets, inventory
variables, how to tell a bucket is onboarded) and its credential with AWX's injector for it.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import stat
import tempfile

import boto3
import pytest
from awxjob import AwxJob, collections_root, inject_aws_credential, inventory_script_data, job_output, sliced_hosts

OUR_SID = "segments-s3-access"
OUR_RULE_ID = "segments-cors"
REGION = "us-east-1"
FOREIGN_RULE = {
    "ID": "customer-viewer",
    "AllowedOrigins": ["https://viewer.customer.example"],
    "AllowedMethods": ["GET"],
}
LAST_TASK = "Fail the accounts with failed buckets, now that the summary is out"
JOB_IDS = itertools.count(4100)
# Every private data directory and backup folder the jobs made, removed when the tests are done.
JOB_FOLDERS: list = []


@pytest.fixture(scope="module", autouse=True)
def remove_job_folders():
    yield
    for folder in JOB_FOLDERS:
        shutil.rmtree(folder, ignore_errors=True)


class AwsCredential:
    """An Amazon Web Services credential of AWX (Access Key, Secret Key, STS Token), with canary values."""

    def __init__(self) -> None:
        self.access_key = "AKIA" + secrets.token_hex(8).upper()
        self.secret_key = "awx-canary-secret-" + secrets.token_hex(12)
        self.security_token = "awx-canary-sts-" + secrets.token_hex(12)

    def inject(self, env: dict) -> None:
        inject_aws_credential(env, self.access_key, self.secret_key, self.security_token)

    def secrets(self) -> list:
        return [self.secret_key, self.security_token]


class S3Estate:
    """AWS accounts (inventory hosts) and their buckets, made directly in LocalStack with a customer's CORS rule;
    removed at teardown. The interface every cloud's estate has: buckets ({host: [names]}), missing, group,
    hostvars(), onboarded(name), snapshot(), remove(); credential_type makes the job's credential."""

    group = "aws_accounts"
    credential_type = AwsCredential

    def __init__(self, accounts: int, buckets_per_account: int, missing: tuple = ()) -> None:
        s3 = self.s3 = boto3.client(
            "s3",
            endpoint_url=os.environ["AWS_ENDPOINT_URL"],
            region_name=REGION,
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "test",
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
        )
        token = secrets.token_hex(3)
        self.buckets: dict = {}
        for index in range(accounts):
            host = "aws-%012d-%s" % (100000000000 + index, token)
            self.buckets[host] = ["awx-%s-%d-%d" % (token, index, number) for number in range(buckets_per_account)]
        self.missing = set()
        for host_index, name in missing:  # buckets named in the inventory that do not exist
            host = sorted(self.buckets)[host_index]
            self.buckets[host].append(name % token)
            self.missing.add(name % token)
        for name in self.all_buckets():
            if name not in self.missing:
                s3.create_bucket(Bucket=name)
                s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [FOREIGN_RULE]})

    def all_buckets(self) -> list:
        return [name for names in self.buckets.values() for name in names]

    def hostvars(self) -> dict:
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        return {
            host: {"segments_aws_endpoint_url": endpoint, "segments_aws_region": REGION, "segments_s3_buckets": names}
            for host, names in self.buckets.items()
        }

    def onboarded(self, name: str) -> bool:
        """Our statement and our rule are in the bucket, and the customer's rule is still there."""
        try:
            policy = json.loads(self.s3.get_bucket_policy(Bucket=name)["Policy"])
            rules = self.s3.get_bucket_cors(Bucket=name)["CORSRules"]
        except self.s3.exceptions.ClientError:
            return False
        sids = [statement.get("Sid") for statement in policy.get("Statement", [])]
        ids = [rule.get("ID") for rule in rules]
        return sids.count(OUR_SID) == 1 and ids.count(OUR_RULE_ID) == 1 and "customer-viewer" in ids

    def snapshot(self) -> dict:
        state = {}
        for name in self.all_buckets():
            if name in self.missing:
                continue
            try:
                policy = self.s3.get_bucket_policy(Bucket=name)["Policy"]
            except self.s3.exceptions.ClientError:
                policy = None
            state[name] = (policy, self.s3.get_bucket_cors(Bucket=name)["CORSRules"])
        return state

    def remove(self) -> None:
        for name in self.all_buckets():
            if name not in self.missing:
                try:
                    self.s3.delete_bucket(Bucket=name)
                except self.s3.exceptions.ClientError:
                    pass


# The clouds the jobs run against, each with its estate class: another cloud adds its class here.
ESTATES = {"s3": S3Estate}
ENDPOINT_VARIABLES = {"s3": "AWS_ENDPOINT_URL"}


@pytest.fixture(scope="module", params=sorted(ESTATES))
def cloud(request):
    if not os.environ.get(ENDPOINT_VARIABLES[request.param]):
        pytest.skip("AWX runner tests need the local clouds: run SEGMENTS_STAGES=awx bash scripts/test")
    return request.param


@pytest.fixture
def estate(cloud):
    """Factory: estate(accounts, buckets_per_account, missing=((host index, name pattern),)) of the cloud."""
    made = []

    def make(accounts: int, buckets_per_account: int, missing: tuple = ()):
        made.append(ESTATES[cloud](accounts, buckets_per_account, missing))
        return made[-1]

    yield make
    for one in made:
        one.remove()


def make_job(
    playbook: str,
    estate,
    credential,
    slice_number: int = 1,
    slice_count: int = 1,
    verbosity: int = 0,
) -> AwxJob:
    job = AwxJob(next(JOB_IDS), playbook, collections_root())
    job.inventory = inventory_script_data(
        {estate.group: sorted(estate.buckets)},
        estate.hostvars(),
        {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        slice_number,
        slice_count,
    )
    # The backups go to a folder that outlives the job, as docs/awx.md asks (a volume mounted into the EE).
    job.extra_vars = {"segments_backup_dir": tempfile.mkdtemp(prefix="awx-backups-"), "segments_concurrency": 4}
    JOB_FOLDERS.extend([job.private_data_dir, job.extra_vars["segments_backup_dir"]])
    job.verbosity = verbosity
    if credential:
        credential.inject(job.env)
    return job


def report_rows(result) -> list:
    report = result.stats().get("artifact_data", {}).get("segments_report")
    assert report, "no segments_report in the playbook_on_stats event's artifact_data:\n%s" % job_output(result)[-4000:]
    return report["rows"]


@pytest.fixture(scope="module")
def onboarded(cloud):
    """One onboard job at -vvv on 3 accounts of 2 buckets, with a credential of canary secrets (made once)."""
    estate = ESTATES[cloud](accounts=3, buckets_per_account=2)
    credential = estate.credential_type()
    result = make_job("onboard.yml", estate, credential, verbosity=3).run()
    yield estate, credential, result
    estate.remove()


def test_onboard_job_succeeds_and_onboards(onboarded):
    estate, _credential, result = onboarded
    assert result.rc == 0 and result.status == "successful", job_output(result)[-6000:]
    assert [name for name in estate.all_buckets() if not estate.onboarded(name)] == []
    stats = result.stats()
    assert set(stats["ok"]) == set(estate.buckets) and not stats["failures"] and not stats["dark"]


def test_onboard_report_is_in_the_runner_artifacts(onboarded):
    estate, _credential, result = onboarded
    rows = report_rows(result)
    assert sorted((row["host"], row["bucket"]) for row in rows) == sorted(
        (host, name) for host, names in estate.buckets.items() for name in names
    )
    assert {row["result"] for row in rows} == {"changed"} and all(row["ready"] for row in rows), rows


def test_no_secret_in_the_job_events_at_vvv(onboarded):
    _estate, credential, result = onboarded
    events_text = result.event_files_text()
    assert "<127.0.0.1> EXEC" in events_text or "ESTABLISH LOCAL CONNECTION" in events_text, "not a -vvv run"
    for secret in credential.secrets():
        assert secret not in events_text, "a secret of the credential is in the job events"
        assert secret not in job_output(result), "a secret of the credential is in the job output"
    # ansible-runner writes the job's whole environment, the injected credential included, to artifacts/ID/command
    # (as it does under AWX, in the job's private data directory): readable by its owner only.
    command_file = result.artifacts / "command"
    assert stat.S_IMODE(command_file.stat().st_mode) == 0o600


def test_the_credential_is_what_the_job_uses(estate):
    """Without the credential the same job cannot reach the buckets: its keys come from the injected variables alone."""
    small = estate(accounts=1, buckets_per_account=1)
    result = make_job("onboard.yml", small, None).run()
    assert result.rc != 0 and result.status == "failed"
    assert not small.onboarded(small.all_buckets()[0])
    assert any(row["result"] == "failed" for row in report_rows(result))


def test_audit_job_reports_and_writes_nothing(onboarded, estate):
    onboarded_estate, credential, _result = onboarded
    before = onboarded_estate.snapshot()
    result = make_job("audit.yml", onboarded_estate, credential).run()
    assert result.rc == 0 and result.status == "successful", job_output(result)[-6000:]
    stats = result.stats()
    assert not stats["changed"] and not stats["failures"], stats
    rows = report_rows(result)
    assert {row["result"] for row in rows} == {"ok"} and all(row["ready"] for row in rows), rows
    assert result.stats()["artifact_data"]["segments_report"]["state"] == "present"
    assert onboarded_estate.snapshot() == before
    # A bucket that is not onboarded is reported not ready, and stays as it was.
    fresh = estate(accounts=1, buckets_per_account=1)
    fresh_before = fresh.snapshot()
    result = make_job("audit.yml", fresh, credential).run()
    assert result.rc == 0, job_output(result)[-6000:]
    assert [row["ready"] for row in report_rows(result)] == [False]
    assert fresh.snapshot() == fresh_before


def test_one_failing_account_fails_the_job_only_at_the_end(estate):
    """The second account names a bucket that does not exist: that account fails, at the role's last task, after the
    summary and the report; the other accounts, and the account's other bucket, are onboarded."""
    accounts = estate(accounts=3, buckets_per_account=1, missing=((1, "awx-%s-missing"),))
    failing_host = sorted(accounts.buckets)[1]
    result = make_job("onboard.yml", accounts, accounts.credential_type()).run()
    assert result.rc != 0 and result.status == "failed", job_output(result)[-6000:]
    stats = result.stats()
    assert set(stats["failures"]) == {failing_host}, stats
    failed = result.task_events("runner_on_failed")
    assert [(event["event_data"]["host"], event["event_data"]["task"]) for event in failed] == [
        (failing_host, LAST_TASK)
    ]
    # Nothing ran after the failure but the end of the play.
    last_task_start = max(event["counter"] for event in result.task_events("playbook_on_task_start"))
    assert failed[0]["counter"] > last_task_start
    assert [
        name for name in accounts.all_buckets() if name not in accounts.missing and not accounts.onboarded(name)
    ] == []
    rows = {row["bucket"]: row["result"] for row in report_rows(result)}
    assert [name for name, outcome in rows.items() if outcome == "failed"] == sorted(accounts.missing)
    assert [name for name, outcome in rows.items() if outcome == "changed"] == [
        name for name in accounts.all_buckets() if name not in accounts.missing
    ]


def test_two_slices_cover_the_estate_exactly_once(estate):
    accounts = estate(accounts=5, buckets_per_account=1)
    credential = accounts.credential_type()
    slices = [sliced_hosts(accounts.buckets, number, 2) for number in (1, 2)]
    results = [
        make_job("onboard.yml", accounts, credential, slice_number=number, slice_count=2).run() for number in (1, 2)
    ]
    ran_hosts = []
    reported = []
    for slice_hosts, result in zip(slices, results):
        assert result.rc == 0 and result.status == "successful", job_output(result)[-6000:]
        assert sorted(result.stats()["ok"]) == slice_hosts
        ran_hosts.extend(result.stats()["ok"])
        reported.extend((row["host"], row["bucket"]) for row in report_rows(result))
    assert sorted(ran_hosts) == sorted(accounts.buckets), "every account in exactly one slice"
    assert sorted(reported) == sorted((host, names[0]) for host, names in accounts.buckets.items())
    assert [name for name in accounts.all_buckets() if not accounts.onboarded(name)] == []
