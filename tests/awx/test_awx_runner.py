# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Issue 14, part 2: the playbooks run the way AWX runs them, through ansible-runner (awxjob.py says how).

Against LocalStack, with the credentials injected only as AWX's Amazon Web Services credential injects them, and
against the fake of Azure Resource Manager and Microsoft Graph (tests/fakes/azure_arm.py; no local emulator of them
exists), with the credentials injected only as AWX's Microsoft Azure Resource Manager credential injects them, its
cloud environment the fake's metadata URL:

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

import copy
import itertools
import json
import os
import secrets
import shutil
import ssl
import stat
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
import pytest
from awxjob import (
    AwxJob,
    collections_root,
    inject_aws_credential,
    inject_azure_credential,
    inventory_script_data,
    job_output,
    sliced_hosts,
)

COLLECTION = Path(__file__).resolve().parents[2]

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
    missing_name = "awx-%s-missing"  # a bucket named in the inventory that does not exist (token filled in)

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


# Segments' Azure app ("Segments.ai Blob Link Service") and the role Segments needs, as Segments' setup page gives them.
SEGMENTS_APP_ID = "d47021c7-05d1-44c3-a594-93c2c30c68fc"
BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
AZURE_RESOURCE_GROUP = "awx-imaging"
AZURE_FOREIGN_RULE = {
    "allowedOrigins": ["https://viewer.customer.example"],
    "allowedMethods": ["GET", "HEAD"],
    "allowedHeaders": ["x-ms-meta-*"],
    "exposedHeaders": [],
    "maxAgeInSeconds": 600,
}
AZURE_VARIABLES = (
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_CLIENT_ID",
    "AZURE_SECRET",
    "AZURE_TENANT",
    "AZURE_CLOUD_ENVIRONMENT",
)


def azure_missing() -> str:
    """What the Azure AWX cases lack in this tree or this environment, or "" when they can run."""
    missing = []
    if not (COLLECTION / "roles" / "onboard" / "tasks" / "azure.yml").exists():
        missing.append("the onboard role's Azure steps (roles/onboard/tasks/azure.yml)")
    backup = (COLLECTION / "plugins" / "modules" / "segments_backup.py").read_text()
    if '"azure":' not in backup.split("MANAGED_KEYS = {", 1)[-1].split("}", 1)[0]:
        missing.append("segments_backup accepting provider azure (the onboard role's backup step calls it so)")
    if not os.environ.get("SEGMENTS_AZURE_FAKE_ENDPOINT") or not all(os.environ.get(name) for name in AZURE_VARIABLES):
        missing.append(
            "the Azure fake of the local clouds (SEGMENTS_AZURE_FAKE_ENDPOINT and AZURE_*, from scripts/test)"
        )
    return " and ".join(missing)


class AzureFake:
    """The running fake of ARM, Graph and Entra ID sign-in (scripts/local-clouds), over HTTPS with the CA it made:
    its /_fake control calls seed and inspect it, and ARM reads go with a token it issues, as a client's would."""

    token: dict = {}

    @staticmethod
    def call(method: str, path: str, body=None, form=None, token: str = ""):
        url = os.environ["SEGMENTS_AZURE_FAKE_ENDPOINT"] + path
        headers = {}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            data, headers["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
        if token:
            headers["Authorization"] = "Bearer " + token
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        # The fake's CA is in the bundle scripts/lib.sh exports (SSL_CERT_FILE).
        context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"))
        with urllib.request.urlopen(request, timeout=60, context=context) as answer:
            raw = answer.read()
        return json.loads(raw) if raw else None

    @classmethod
    def arm(cls, path: str):
        if "access_token" not in cls.token:
            endpoint = os.environ["SEGMENTS_AZURE_FAKE_ENDPOINT"]
            cls.token = cls.call(
                "POST",
                "/%s/oauth2/v2.0/token" % os.environ["AZURE_TENANT"],
                form={
                    "grant_type": "client_credentials",
                    "client_id": os.environ["AZURE_CLIENT_ID"],
                    "client_secret": os.environ["AZURE_SECRET"],
                    "scope": endpoint + "/.default",
                },
            )
        return cls.call("GET", path + "?api-version=2023-05-01", token=cls.token["access_token"])

    @classmethod
    def segments_principal(cls) -> str:
        """The object ID of Segments' app in the tenant, made once if the fake has none yet."""
        for principal in cls.call("GET", "/_fake/state")["service_principals"]:
            if principal["appId"] == SEGMENTS_APP_ID:
                return principal["id"]
        return cls.call("POST", "/_fake/service_principals", {"appId": SEGMENTS_APP_ID})["id"]


class AzureCredential:
    """A Microsoft Azure Resource Manager credential of AWX (service principal: subscription, client, tenant, secret),
    its cloud environment the fake's metadata URL. The fake knows one client and secret, so the secret is that one."""

    def __init__(self) -> None:
        self.subscription = os.environ["AZURE_SUBSCRIPTION_ID"]
        self.client = os.environ["AZURE_CLIENT_ID"]
        self.tenant = os.environ["AZURE_TENANT"]
        self.secret = os.environ["AZURE_SECRET"]
        self.cloud_environment = os.environ["AZURE_CLOUD_ENVIRONMENT"]

    def inject(self, env: dict) -> None:
        inject_azure_credential(
            env,
            self.subscription,
            client=self.client,
            secret=self.secret,
            tenant=self.tenant,
            cloud_environment=self.cloud_environment,
        )

    def secrets(self) -> list:
        return [self.secret]


class AzureEstate:
    """Azure subscriptions' storage accounts (hosts: teams, each with its accounts) made in the fake through its
    control calls, each with a customer's CORS rule and a delete retention policy; their role assignments removed
    at teardown (the fake cannot delete accounts; their names are unique). The same interface as S3Estate."""

    group = "azure_teams"
    credential_type = AzureCredential
    missing_name = "awx%smissing"  # storage account names are 3-24 lower-case letters and digits

    def __init__(self, accounts: int, buckets_per_account: int, missing: tuple = ()) -> None:
        token = secrets.token_hex(3)
        self.subscription = os.environ["AZURE_SUBSCRIPTION_ID"]
        self.principal = AzureFake.segments_principal()
        self.buckets: dict = {}
        for index in range(accounts):
            host = "azure-%02d-%s" % (index, token)
            self.buckets[host] = ["awx%s%d%d" % (token, index, number) for number in range(buckets_per_account)]
        self.missing = set()
        for host_index, name in missing:  # accounts named in the inventory that do not exist
            host = sorted(self.buckets)[host_index]
            self.buckets[host].append(name % token)
            self.missing.add(name % token)
        self.ids = {}
        for name in self.all_buckets():
            if name not in self.missing:
                self.ids[name] = AzureFake.call(
                    "POST",
                    "/_fake/accounts",
                    {
                        "name": name,
                        "resource_group": AZURE_RESOURCE_GROUP,
                        "subscription_id": self.subscription,
                        "blob_properties": {
                            "cors": {"corsRules": [copy.deepcopy(AZURE_FOREIGN_RULE)]},
                            "deleteRetentionPolicy": {"enabled": True, "days": 7},
                        },
                    },
                )["id"]

    def all_buckets(self) -> list:
        return [name for names in self.buckets.values() for name in names]

    def hostvars(self) -> dict:
        return {
            host: {"segments_azure_accounts": names, "segments_azure_resource_group": AZURE_RESOURCE_GROUP}
            for host, names in self.buckets.items()
        }

    def _assignments(self, account_id: str) -> list:
        return sorted(
            (
                assignment
                for assignment in AzureFake.call("GET", "/_fake/state")["assignments"]
                if assignment["properties"]["scope"].lower() == account_id.lower()
            ),
            key=lambda assignment: assignment["id"],
        )

    def onboarded(self, name: str) -> bool:
        """Segments' rule and the customer's rule are in the Blob service, and Segments' app holds Storage Blob Data
        Reader on the account."""
        if name not in self.ids:
            return False
        rules = AzureFake.arm(self.ids[name] + "/blobServices/default")["properties"]["cors"]["corsRules"]
        granted = [
            assignment
            for assignment in self._assignments(self.ids[name])
            if assignment["properties"]["principalId"].lower() == self.principal.lower()
            and assignment["properties"]["roleDefinitionId"].lower().endswith(BLOB_DATA_READER)
        ]
        ours = [rule for rule in rules if rule.get("allowedOrigins") == ["https://app.segments.ai"]]
        return len(ours) == 1 and AZURE_FOREIGN_RULE in rules and len(granted) == 1

    def snapshot(self) -> dict:
        return {
            name: (AzureFake.arm(account_id + "/blobServices/default")["properties"], self._assignments(account_id))
            for name, account_id in self.ids.items()
        }

    def remove(self) -> None:
        for account_id in self.ids.values():
            AzureFake.call("DELETE", "/_fake/assignments?scope=" + urllib.parse.quote(account_id, safe=""))

    @staticmethod
    def process_env() -> dict:
        """The execution environment trusts the private cloud's CA, as an EE image built with it does."""
        return {"SSL_CERT_FILE": os.environ["SSL_CERT_FILE"], "REQUESTS_CA_BUNDLE": os.environ["SSL_CERT_FILE"]}


# The clouds the jobs run against, each with its estate class: another cloud adds its class here.
ESTATES = {"s3": S3Estate, "azure": AzureEstate}


def cloud_missing(cloud: str) -> str:
    """Why the cloud's jobs cannot run here, or ""."""
    if cloud == "s3" and not os.environ.get("AWS_ENDPOINT_URL"):
        return "AWX runner tests need the local clouds: run SEGMENTS_STAGES=awx bash scripts/test"
    if cloud == "azure" and azure_missing():
        return "the Azure AWX cases need %s" % azure_missing()
    return ""


@pytest.fixture(scope="module", params=sorted(ESTATES))
def cloud(request):
    reason = cloud_missing(request.param)
    if reason:
        pytest.skip(reason)
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
    if hasattr(estate, "process_env"):
        job.process_env.update(estate.process_env())
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


def test_one_failing_account_fails_the_job_only_at_the_end(cloud, estate):
    """The second account names a bucket that does not exist: that account fails, at the role's last task, after the
    summary and the report; the other accounts, and the account's other bucket, are onboarded."""
    accounts = estate(accounts=3, buckets_per_account=1, missing=((1, ESTATES[cloud].missing_name),))
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


class AzureDataPlaneAccount:
    """One Azurite account (segtest21, which the fake also serves under its default subscription and resource group)
    reached on the data plane for CORS, its connection string given to the job as an extra variable, as an AWX custom
    credential injects one; the role assignment still goes through the fake's ARM."""

    group = "azure_teams"
    account = "segtest21"

    def __init__(self) -> None:
        from azure.storage.blob import BlobServiceClient  # pylint: disable=import-outside-toplevel

        self.connection_string = "DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s/%s;" % (
            self.account,
            os.environ["SEGMENTS_AZURITE_ACCOUNT_KEY"],
            os.environ["SEGMENTS_AZURITE_ENDPOINT"],
            self.account,
        )
        self.service = BlobServiceClient.from_connection_string(self.connection_string)
        self.service.set_service_properties(cors=[])
        self.buckets = {"azure-data-plane": [self.account]}
        self.account_id = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Storage/storageAccounts/%s" % (
            os.environ["AZURE_SUBSCRIPTION_ID"],
            os.environ["SEGMENTS_AZURE_RESOURCE_GROUP"],
            self.account,
        )

    def hostvars(self) -> dict:
        return {
            "azure-data-plane": {
                "segments_azure_accounts": [self.account],
                "segments_azure_resource_group": os.environ["SEGMENTS_AZURE_RESOURCE_GROUP"],
            }
        }

    process_env = staticmethod(AzureEstate.process_env)

    def cors_origins(self) -> list:
        return [rule.allowed_origins for rule in self.service.get_service_properties()["cors"] or []]

    def remove(self) -> None:
        self.service.set_service_properties(cors=[])
        AzureFake.call("DELETE", "/_fake/assignments?scope=" + urllib.parse.quote(self.account_id, safe=""))


def test_no_connection_string_in_the_job_events_at_vvv(cloud):
    """An account reached by connection string (data plane): the job succeeds at -vvv, the rule is written, and
    neither the connection string nor its account key is in the job events or the output."""
    if cloud != "azure":
        pytest.skip("connection strings are Azure's")
    data_plane = AzureDataPlaneAccount()
    try:
        job = make_job("onboard.yml", data_plane, AzureCredential(), verbosity=3)
        job.extra_vars["segments_azure_connection_strings"] = {data_plane.account: data_plane.connection_string}
        result = job.run()
        assert result.rc == 0 and result.status == "successful", job_output(result)[-6000:]
        assert data_plane.cors_origins() == ["https://app.segments.ai"]
        events_text = result.event_files_text()
        assert "ESTABLISH LOCAL CONNECTION" in events_text or "<127.0.0.1> EXEC" in events_text, "not a -vvv run"
        for secret in (
            data_plane.connection_string,
            os.environ["SEGMENTS_AZURITE_ACCOUNT_KEY"],
            os.environ["AZURE_SECRET"],
        ):
            assert secret not in events_text, "a secret is in the job events"
            assert secret not in job_output(result), "a secret is in the job output"
    finally:
        data_plane.remove()
