# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures for the system tests: the modules run through ansible-playbook against the real local clouds
(LocalStack, the GCS emulator and Azurite), optionally through the fault-injecting proxy of faultproxy.py. No mocks.

Fixtures (all documented below): ``clouds`` (direct clients; skips without the local-cloud environment),
``azurite`` (helpers_azure.AzuriteDirect; skips without SEGMENTS_AZURITE_ENDPOINT), ``azure_accounts`` (a test file's
segsys accounts, reset before and after),
``fault_proxy`` (factory of started FaultProxy instances, stopped at teardown), ``run_tasks`` / ``run_module``
(ansible-playbook on a generated playbook, results captured as JSON), ``bucket_names`` (unique names and a key
normalizer for the proxy), ``s3_buckets`` / ``gcs_buckets`` (create buckets directly, always deleted at teardown)
and ``record_figures`` (figures written to tests/output/system/SECTION.json and printed in the terminal summary).
``run.assert_no_traceback()`` fails a test whose ansible run shows a Python traceback or a MODULE FAILURE.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from bucket_state import GcsDirect
from faultproxy import FaultProxy

SYSTEM_DIR = Path(__file__).resolve().parent
COLLECTION_DIR = SYSTEM_DIR.parents[1]
# In the copied tree (ROOT/ansible_collections/segments/cloud/tests/system) the collections root is four levels up.
COLLECTIONS_ROOT = SYSTEM_DIR.parents[4] if SYSTEM_DIR.parents[2].name == "segments" else None
OUTPUT_DIR = Path(os.environ.get("SEGMENTS_SYSTEM_OUTPUT") or COLLECTION_DIR / "tests" / "output" / "system")
ANSIBLE_TIMEOUT_SECONDS = 900
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "MODULE FAILURE", "module_stderr")
# Keys of an ansible task result that only appear when a module died instead of answering.
CRASH_RESULT_KEYS = ("module_stderr", "module_stdout")

# Figures recorded by the tests, by section ("faults", "races", ...): printed by pytest_terminal_summary.
SYSTEM_FIGURES: dict = {}
FIGURE_COLUMNS = (
    "buckets",
    "requests",
    "faults",
    "retries",
    "faults_not_retried",
    "foreign_writes",
    "foreign_lost",
    "gap_losses",
    "detected",
    "preconditions_failed",
    "ok",
    "changed",
    "failed",
    "lost",
    "half_written",
    "failed_but_landed",
    "changed_misreported",
    "unmapped_errors",
    "writes",
    "info_wrong",
    "ours_missing",
    "tracebacks",
    "seconds",
)


# ---------------------------------------------------------------- the clouds


@dataclass
class Clouds:
    """The local clouds as the environment of scripts/lib.sh local_cloud_env describes them, with direct clients
    (never through a proxy): ``s3`` (boto3), ``gcs`` (GcsDirect, the JSON API over plain HTTP)."""

    aws_endpoint: str
    gcs_endpoint: str
    region: str
    project: str
    access_key: str
    secret_key: str
    s3: object = None
    gcs: object = None
    azure_endpoint: str | None = None

    def aws_defaults(self, endpoint: str | None = None, **extra) -> dict:
        """module_defaults for group/segments.cloud.aws pointing at endpoint (default: LocalStack itself)."""
        defaults = dict(
            endpoint_url=endpoint or self.aws_endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
        )
        defaults.update(extra)
        return defaults

    def gcs_defaults(self, endpoint: str | None = None, **extra) -> dict:
        """module_defaults for group/segments.cloud.gcs pointing at endpoint (default: the emulator itself)."""
        defaults = dict(api_endpoint=endpoint or self.gcs_endpoint, project=self.project)
        defaults.update(extra)
        return defaults


@pytest.fixture(scope="session")
def clouds():
    """The local clouds (skips the test when AWS_ENDPOINT_URL or STORAGE_EMULATOR_HOST is not set: run the system
    stage through scripts/test, or export scripts/lib.sh local_cloud_env with the clouds started)."""
    aws_endpoint = os.environ.get("AWS_ENDPOINT_URL")
    gcs_endpoint = os.environ.get("STORAGE_EMULATOR_HOST")
    if not aws_endpoint or not gcs_endpoint:
        pytest.skip(
            "system tests need the local clouds: AWS_ENDPOINT_URL and STORAGE_EMULATOR_HOST are not set "
            "(run SEGMENTS_STAGES=system bash scripts/test)"
        )
    boto3 = pytest.importorskip("boto3")
    if "://" not in gcs_endpoint:
        gcs_endpoint = "http://" + gcs_endpoint
    found = Clouds(
        aws_endpoint=aws_endpoint,
        gcs_endpoint=gcs_endpoint,
        region=os.environ.get("AWS_REGION") or "us-east-1",
        project=os.environ.get("GCP_PROJECT") or "segments-local",
        access_key=os.environ.get("AWS_ACCESS_KEY_ID") or "test",
        secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "test",
    )
    found.s3 = boto3.client(
        "s3",
        endpoint_url=aws_endpoint,
        region_name=found.region,
        aws_access_key_id=found.access_key,
        aws_secret_access_key=found.secret_key,
    )
    found.gcs = GcsDirect(gcs_endpoint, found.project)
    found.azure_endpoint = os.environ.get("SEGMENTS_AZURITE_ENDPOINT") or None
    return found


@pytest.fixture(scope="session")
def azurite(clouds):
    """helpers_azure.AzuriteDirect on the local Azurite (skips the test when SEGMENTS_AZURITE_ENDPOINT is not set)."""
    if not clouds.azure_endpoint:
        pytest.skip("the Azure system tests need Azurite: SEGMENTS_AZURITE_ENDPOINT is not set")
    pytest.importorskip("azure.storage.blob")
    from helpers_azure import AzuriteDirect

    return AzuriteDirect(clouds.azure_endpoint)


@pytest.fixture
def azure_accounts(azurite):
    """Factory: azure_accounts(group, count, skip=0) -> names of a test file's segsys accounts (helpers_azure.accounts),
    each reset now (no CORS rule, default properties) and again when the test ends, whatever happened."""
    from helpers_azure import accounts

    used = []

    def take(group: str, count: int, skip: int = 0) -> list:
        names = accounts(group, count, skip)
        for name in names:
            azurite.reset(name)
        used.extend(names)
        return names

    yield take
    for name in used:
        try:
            azurite.reset(name)
        except Exception:  # pylint: disable=broad-exception-caught
            pass  # best effort: Azurite runs in memory and its state goes with the stage


@pytest.fixture
def fault_proxy(clouds):
    """Factory: fault_proxy("s3" | "gcs" | "azure", **FaultProxy options) -> a started FaultProxy in front of
    LocalStack, the GCS emulator or Azurite (its URL is .url); every proxy made is stopped when the test ends."""
    started = []

    def start(cloud: str, **options) -> FaultProxy:
        upstream = {"s3": clouds.aws_endpoint, "gcs": clouds.gcs_endpoint, "azure": clouds.azure_endpoint}[cloud]
        proxy = FaultProxy(upstream, cloud, **options)
        proxy.start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


# ---------------------------------------------------------------- buckets


@dataclass
class BucketNames:
    """Unique bucket names for one test: ``name(i)`` is TAG-TOKEN-iii; ``normalize`` maps TOKEN away, so a FaultProxy
    given key_normalizer=names.normalize picks the same requests for the same seed from one run to the next."""

    tag: str
    token: str = field(default_factory=lambda: secrets.token_hex(3))

    def name(self, index: int) -> str:
        """The index-th bucket name (a valid S3 and GCS name)."""
        return "%s-%s-%03d" % (self.tag, self.token, index)

    def names(self, count: int) -> list:
        """The first count bucket names."""
        return [self.name(index) for index in range(count)]

    def normalize(self, text: str) -> str:
        """text with this test's token replaced by a constant."""
        return text.replace(self.token, "TOKEN")


@pytest.fixture
def bucket_names():
    """Factory: bucket_names(tag) -> BucketNames; tag is short, lowercase (e.g. 'flt-s3')."""

    def make(tag: str = "sys") -> BucketNames:
        return BucketNames(tag)

    return make


def _delete_s3_bucket(s3, name: str) -> None:
    """Delete a bucket and its objects, retrying a little; a bucket that is already gone is fine."""
    for _attempt in range(3):
        try:
            listing = s3.list_objects_v2(Bucket=name)
            for item in listing.get("Contents") or []:
                s3.delete_object(Bucket=name, Key=item["Key"])
            s3.delete_bucket(Bucket=name)
            return
        except s3.exceptions.NoSuchBucket:
            return
        except Exception:  # pylint: disable=broad-exception-caught
            time.sleep(0.5)  # clean-up is best effort: LocalStack state is in memory and goes with the stage


@pytest.fixture
def s3_buckets(clouds):
    """Factory: s3_buckets(names) creates the buckets directly in LocalStack and returns the names; every bucket made
    (and any name passed to .track) is deleted when the test ends, whatever happened."""
    made = []

    def create(names) -> list:
        for name in names:
            made.append(name)
            clouds.s3.create_bucket(Bucket=name)
        return list(names)

    create.track = made.append
    yield create
    for name in made:
        _delete_s3_bucket(clouds.s3, name)


@pytest.fixture
def gcs_buckets(clouds):
    """Factory: gcs_buckets(specs) creates buckets directly in the emulator (a spec is a name or {name, cors, bindings})
    and returns the names; every bucket made is deleted when the test ends, whatever happened."""
    made = []

    def create(specs) -> list:
        names = []
        for spec in specs:
            spec = spec if isinstance(spec, dict) else {"name": spec}
            made.append(spec["name"])
            clouds.gcs.create(spec["name"], cors=spec.get("cors"), bindings=spec.get("bindings"))
            names.append(spec["name"])
        return names

    yield create
    for name in made:
        try:
            clouds.gcs.delete(name)
        except (AssertionError, OSError):
            pass  # best effort, as for S3


# ---------------------------------------------------------------- ansible


@dataclass
class AnsibleRun:
    """One ansible-playbook run: ``results`` maps each task's register name to its result; stdout, stderr, returncode,
    seconds."""

    results: dict
    stdout: str
    stderr: str
    returncode: int
    seconds: float

    def tracebacks(self) -> list:
        """Every sign of a module that crashed instead of answering: traceback text in the output or a result, MODULE
        FAILURE, module_stderr. (ansible-core 2.19 puts exception='(traceback unavailable)' in every failed result: that
        is no crash.)"""
        found = [
            "output: %s" % marker for marker in TRACEBACK_MARKERS if marker in self.stdout or marker in self.stderr
        ]
        for register_name, result in self.results.items():
            if isinstance(result, dict):
                found.extend("%s: result key %r" % (register_name, key) for key in CRASH_RESULT_KEYS if result.get(key))
                if "MODULE FAILURE" in str(result.get("msg", "")):
                    found.append("%s: MODULE FAILURE" % register_name)
            if "Traceback (most recent call last)" in json.dumps(result):
                found.append("%s: traceback text in the result" % register_name)
        return found

    def assert_no_traceback(self) -> None:
        """Fail when the run shows a Python traceback or a MODULE FAILURE: every failure must be a message."""
        problems = self.tracebacks()
        assert not problems, "tracebacks in the ansible run: %s\n--- stdout tail:\n%s\n--- stderr tail:\n%s" % (
            problems,
            self.stdout[-3000:],
            self.stderr[-3000:],
        )


def _ansible_environment(aws_endpoint: str | None, gcs_endpoint: str | None) -> dict:
    environment = dict(os.environ)
    if COLLECTIONS_ROOT and not environment.get("ANSIBLE_COLLECTIONS_PATH"):
        environment["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS_ROOT)
    environment.update(
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_RETRY_FILES_ENABLED="false",
        # Every result carries the module arguments (no_log ones masked), as before ansible-core 2.21 made that
        # opt-in: the secret canaries then see the arguments wherever a run could show them.
        ANSIBLE_INJECT_INVOCATION="true",
    )
    # Nothing may bypass the proxy: the clients' own environment fallbacks point at it too.
    if aws_endpoint:
        environment["AWS_ENDPOINT_URL"] = aws_endpoint
    if gcs_endpoint:
        environment["STORAGE_EMULATOR_HOST"] = gcs_endpoint
    return environment


@pytest.fixture
def run_tasks(clouds, tmp_path):
    """Factory: run_tasks(tasks, aws_endpoint=None, gcs_endpoint=None, aws_defaults=None, gcs_defaults=None,
    check=False, diff=False) -> AnsibleRun.

    tasks: list of (register_name, module, args) or ansible task dicts that carry their own ``register``. Each task runs
    with ignore_errors so that every result is captured; module_defaults point group/segments.cloud.aws and .gcs at the
    given endpoints (default: the clouds themselves) and add aws_defaults / gcs_defaults (e.g. aws_config
    read_timeout)."""

    def run(
        tasks,
        aws_endpoint=None,
        gcs_endpoint=None,
        aws_defaults=None,
        gcs_defaults=None,
        check=False,
        diff=False,
        extra_args=(),
    ) -> AnsibleRun:
        workdir = Path(tempfile.mkdtemp(prefix="play-", dir=tmp_path))  # unique, so runs may go on in parallel threads
        results_path = workdir / "results.json"
        play_tasks, register_names = [], []
        for task in tasks:
            if isinstance(task, dict):
                task = dict(task)
            else:
                register_name, module, args = task
                task = {"name": register_name, module: args, "register": register_name}
            task["ignore_errors"] = True
            register_names.append(task["register"])
            play_tasks.append(task)
        saved = "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (name, name) for name in register_names)
        play_tasks.append(
            {
                "name": "Save the results",
                "ansible.builtin.copy": {"content": saved, "dest": str(results_path), "mode": "0600"},
                "check_mode": False,
                "diff": False,
            }
        )
        playbook = [
            {
                "name": "System test",
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "module_defaults": {
                    "group/segments.cloud.aws": clouds.aws_defaults(aws_endpoint, **(aws_defaults or {})),
                    "group/segments.cloud.gcs": clouds.gcs_defaults(gcs_endpoint, **(gcs_defaults or {})),
                },
                "tasks": play_tasks,
            }
        ]
        playbook_path = workdir / "playbook.yml"
        playbook_path.write_text(json.dumps(playbook, indent=1))  # JSON is YAML
        command = [
            shutil.which("ansible-playbook") or str(Path(sys.executable).with_name("ansible-playbook")),
            "-i",
            "localhost,",
            str(playbook_path),
        ]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        command.extend(extra_args)
        started = time.monotonic()
        completed = subprocess.run(
            command,
            cwd=workdir,
            env=_ansible_environment(aws_endpoint, gcs_endpoint),
            capture_output=True,
            text=True,
            timeout=ANSIBLE_TIMEOUT_SECONDS,
            check=False,
        )
        results = json.loads(results_path.read_text()) if results_path.exists() else {}
        outcome = AnsibleRun(
            results=results,
            stdout=completed.stdout,
            stderr=completed.stderr,
            returncode=completed.returncode,
            seconds=round(time.monotonic() - started, 1),
        )
        assert results, "ansible-playbook saved no results (rc %s)\n%s\n%s" % (
            completed.returncode,
            completed.stdout[-3000:],
            completed.stderr[-3000:],
        )
        return outcome

    return run


@pytest.fixture
def run_module(run_tasks):
    """Factory: run_module(module, args, **run_tasks options) -> (result, AnsibleRun) for one module call."""

    def run(module: str, args: dict, **options):
        outcome = run_tasks([("result", module, args)], **options)
        return outcome.results["result"], outcome

    return run


# ---------------------------------------------------------------- figures


@pytest.fixture(scope="session")
def record_figures():
    """record_figures(section, case, figures): keep one case's figures (a flat dict, see FIGURE_COLUMNS, plus any
    detail), write tests/output/system/SECTION.json at once, and print them in the terminal summary at the end."""

    def record(section: str, case: str, figures: dict) -> None:
        SYSTEM_FIGURES.setdefault(section, []).append(dict(case=case, **figures))
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        (OUTPUT_DIR / ("%s.json" % section)).write_text(
            json.dumps(SYSTEM_FIGURES[section], indent=1, sort_keys=True, default=str)
        )

    return record


def _figure_text(value) -> str:
    if isinstance(value, dict):
        return str(sum(value.values()))
    return str(value)


def pytest_terminal_summary(terminalreporter):
    """Print the recorded figures as one small table per section, then the totals the issue asks for."""
    if not SYSTEM_FIGURES:
        return
    totals = {"cases": 0, "faults": 0, "retries": 0, "lost": 0, "tracebacks": 0}
    for section, cases in SYSTEM_FIGURES.items():
        terminalreporter.write_sep(
            "-", "system figures: %s (also in %s)" % (section, OUTPUT_DIR / ("%s.json" % section))
        )
        columns = [column for column in FIGURE_COLUMNS if any(column in case for case in cases)]
        rows = [["case"] + columns] + [
            [case["case"]] + [_figure_text(case.get(column, "")) for column in columns] for case in cases
        ]
        widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
        for row in rows:
            terminalreporter.write_line(
                "  ".join(
                    text.rjust(width) if index else text.ljust(width)
                    for index, (text, width) in enumerate(zip(row, widths))
                )
            )
        for case in cases:
            if case.get("faults_by_kind"):
                retries_after = case.get("retries_after") or {}
                terminalreporter.write_line(
                    "%s faults by kind: %s; retries after: %s" % (case["case"], case["faults_by_kind"], retries_after)
                )
            for note in case.get("notes") or []:
                terminalreporter.write_line("%s: %s" % (case["case"], note))
            totals["cases"] += 1
            for key in ("faults", "retries", "lost", "tracebacks"):
                value = case.get(key) or 0
                totals[key] += sum(value.values()) if isinstance(value, dict) else value
    terminalreporter.write_line(
        "system figures: %(cases)d cases, %(faults)d faults injected, %(retries)d retries, %(lost)d buckets lost, "
        "%(tracebacks)d tracebacks" % totals
    )
