# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bucket set-ups, true-state snapshots and a playbook runner for the bad-input and security tests.

Snapshots read LocalStack and the GCS emulator directly (conftest's ``clouds``, never a proxy), so "nothing was
written" is a comparison of what the servers hold before and after a run, not something a module reports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
from bucket_state import (
    GCS_MEMBER,
    GCS_ROLE,
    OUR_RULE_ID,
    OUR_SID,
    SEGMENTS_PRINCIPAL,
    foreign_cors_rules,
    foreign_gcs_bindings,
    foreign_gcs_cors,
    foreign_policy,
    read_s3_cors,
    read_s3_policy,
)

TRACEBACK_MARKERS = ("Traceback (most recent call last)", "MODULE FAILURE", "module_stderr")
CRASH_RESULT_KEYS = ("module_stderr", "module_stdout")
# ansible-core 2.19 puts this in the exception key of every failed result that came without a traceback (a fail_json).
NO_TRACEBACK = "(traceback unavailable)"
SEGMENTS_ORIGINS = ["https://segments.ai", "https://*.segments.ai"]
# S3's bucket-policy size limit; the "big" set-up comes within a few hundred bytes of it.
POLICY_SIZE_LIMIT = 20480
CORS_RULE_LIMIT = 100
PLAYBOOK_TIMEOUT_SECONDS = 900


def kms_client(clouds):
    """A KMS client straight to LocalStack."""
    return boto3.client(
        "kms",
        endpoint_url=clouds.aws_endpoint,
        region_name=clouds.region,
        aws_access_key_id=clouds.access_key,
        aws_secret_access_key=clouds.secret_key,
    )


def our_statement(bucket: str) -> dict:
    """The statement segments_s3_access writes with its defaults."""
    return {
        "Sid": OUR_SID,
        "Effect": "Allow",
        "Principal": {"AWS": SEGMENTS_PRINCIPAL},
        "Action": ["s3:GetObject"],
        "Resource": "arn:aws:s3:::%s/*" % bucket,
    }


def our_cors_rule() -> dict:
    """The CORS rule segments_s3_cors writes with its defaults."""
    return {
        "ID": OUR_RULE_ID,
        "AllowedOrigins": list(SEGMENTS_ORIGINS),
        "AllowedMethods": ["GET"],
        "AllowedHeaders": ["*"],
    }


def our_gcs_cors_entry() -> dict:
    """The CORS entry segments_gcs_cors writes with its defaults."""
    return {"origin": list(SEGMENTS_ORIGINS), "method": ["GET"], "maxAgeSeconds": 3600}


def big_policy(bucket: str) -> dict:
    """A customer policy a few hundred bytes under S3's 20 KB limit, so that adding our statement goes over it."""
    statements = []
    index = 0
    while True:
        statement = {
            "Sid": "CustomerPrefix%03d" % index,
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::%s/customer-prefix-%03d/*" % (bucket, index),
        }
        candidate = {"Version": "2012-10-17", "Statement": statements + [statement]}
        if len(json.dumps(candidate, separators=(",", ":"))) > POLICY_SIZE_LIMIT - 150:
            return {"Version": "2012-10-17", "Statement": statements}
        statements.append(statement)
        index += 1


def full_cors_rules() -> list:
    """S3's maximum of 100 CORS rules, none of them ours."""
    return [
        {
            "ID": "customer-%03d" % index,
            "AllowedOrigins": ["https://app%03d.customer.example" % index],
            "AllowedMethods": ["GET"],
        }
        for index in range(CORS_RULE_LIMIT)
    ]


# The bucket set-ups a test asks for by kind. S3 kinds: plain (a customer's policy and CORS rules), bare (neither),
# ours (plain plus our statement and rule already in place; dotted is the same under a name with dots), only_ours
# (nothing but ours), kms (SSE-KMS with a customer key of this account), big (a policy near 20 KB), full_cors
# (100 rules), missing (never created). GCS kinds start with g: gplain, gours (our member and entry in place), gmissing.
S3_KINDS = ("plain", "bare", "ours", "only_ours", "kms", "big", "full_cors", "missing", "dotted")
GCS_KINDS = ("gplain", "gours", "gmissing")


def create_bucket(clouds, kind: str, name: str) -> dict:
    """Create one bucket of ``kind`` directly in the clouds; return {"cloud", "name", "kms_key"} for snapshots."""
    if kind in GCS_KINDS:
        if kind == "gplain":
            clouds.gcs.create(name, cors=foreign_gcs_cors(), bindings=foreign_gcs_bindings())
        elif kind == "gours":
            clouds.gcs.create(
                name,
                cors=foreign_gcs_cors() + [our_gcs_cors_entry()],
                bindings=foreign_gcs_bindings() + [{"role": GCS_ROLE, "members": [GCS_MEMBER]}],
            )
        return {"cloud": "gcs", "name": name, "kms_key": None}
    created = {"cloud": "s3", "name": name, "kms_key": None}
    if kind == "missing":
        return created
    s3 = clouds.s3
    s3.create_bucket(Bucket=name)
    if kind == "bare":
        return created
    policy, rules = foreign_policy(name), foreign_cors_rules()
    if kind in ("ours", "dotted"):
        policy["Statement"].append(our_statement(name))
        rules = rules + [our_cors_rule()]
    elif kind == "only_ours":
        policy, rules = {"Version": "2012-10-17", "Statement": [our_statement(name)]}, [our_cors_rule()]
    elif kind == "big":
        policy = big_policy(name)
    elif kind == "full_cors":
        rules = full_cors_rules()
    elif kind == "kms":
        created["kms_key"] = kms_client(clouds).create_key(Description="segments.cloud system test")["KeyMetadata"][
            "Arn"
        ]
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": created["kms_key"],
                        }
                    }
                ]
            },
        )
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    return created


def delete_bucket(clouds, created: dict) -> None:
    """Remove a bucket made by create_bucket; best effort, the clouds' state goes with the stage anyway."""
    try:
        if created["cloud"] == "gcs":
            clouds.gcs.delete(created["name"])
        else:
            for item in clouds.s3.list_objects_v2(Bucket=created["name"]).get("Contents") or []:
                clouds.s3.delete_object(Bucket=created["name"], Key=item["Key"])
            clouds.s3.delete_bucket(Bucket=created["name"])
    except Exception:  # pylint: disable=broad-exception-caught
        pass


def snapshot(clouds, created: dict) -> dict:
    """What the server holds for a bucket now. S3: policy, CORS rules and the KMS key policy; GCS: metageneration (every
    PATCH raises it), CORS entries and IAM bindings. A bucket that does not exist is {"exists": False}."""
    name = created["name"]
    if created["cloud"] == "gcs":
        status = clouds.gcs.call("GET", "/storage/v1/b/%s" % name, expect=(200, 404)) or {}
        if "name" not in status:
            return {"exists": False}
        bindings = clouds.gcs.iam(name).get("bindings") or []
        return {
            "exists": True,
            "metageneration": status.get("metageneration"),
            "cors": status.get("cors") or [],
            "bindings": sorted(
                json.dumps(dict(binding, members=sorted(binding.get("members") or [])), sort_keys=True)
                for binding in bindings
            ),
        }
    try:
        clouds.s3.head_bucket(Bucket=name)
    except clouds.s3.exceptions.ClientError:
        return {"exists": False}
    state = {"exists": True, "policy": read_s3_policy(clouds.s3, name), "cors": read_s3_cors(clouds.s3, name)}
    if created.get("kms_key"):
        state["key_policy"] = json.loads(
            kms_client(clouds).get_key_policy(KeyId=created["kms_key"], PolicyName="default")["Policy"]
        )
    return state


# Running the collection


def result_crash_signs(result: dict) -> int:
    """Signs in one task result of a module that crashed instead of answering: its raw output or a traceback in the
    result, MODULE FAILURE, or an exception other than ansible's placeholder for a clean fail_json."""
    signs = sum(1 for key in CRASH_RESULT_KEYS if result.get(key))
    signs += int(result.get("exception") not in (None, NO_TRACEBACK))
    text = json.dumps(result)
    return signs + text.count("Traceback (most recent call last)") + text.count("MODULE FAILURE")


@dataclass
class PlaybookRun:
    """One ansible-playbook run of a collection playbook."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr

    def tracebacks(self) -> list:
        """Traceback or module-crash markers in the output."""
        return [marker for marker in TRACEBACK_MARKERS if marker in self.output]


def _playbook_environment(aws_endpoint: str | None, gcs_endpoint: str | None, drop=()) -> dict:
    environment = dict(
        {name: value for name, value in os.environ.items() if name not in drop},
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
    # The clients' environment fallbacks point where the test says, so nothing reaches a server behind the test's back.
    if aws_endpoint:
        environment["AWS_ENDPOINT_URL"] = aws_endpoint
    if gcs_endpoint:
        environment["STORAGE_EMULATOR_HOST"] = gcs_endpoint
    return environment


def run_playbook(
    playbook: str,
    extra_vars: dict,
    workdir: Path,
    aws_endpoint: str | None = None,
    gcs_endpoint: str | None = None,
    check: bool = False,
    extra_args=(),
    drop_environment=(),
) -> PlaybookRun:
    """ansible-playbook PLAYBOOK -e @extra-vars.json in workdir (a path, or a collection playbook such as
    segments.cloud.onboard), with the clients' endpoint variables set to the given endpoints and the variables named
    in drop_environment unset."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    vars_file = workdir / "extra-vars.json"
    vars_file.write_text(json.dumps(extra_vars))
    command = [str(Path(sys.executable).with_name("ansible-playbook")), playbook, "-e", "@%s" % vars_file]
    if check:
        command.append("--check")
    command.extend(extra_args)
    started = time.monotonic()
    completed = subprocess.run(
        command,
        cwd=str(workdir),
        env=_playbook_environment(aws_endpoint, gcs_endpoint, drop_environment),
        capture_output=True,
        text=True,
        timeout=PLAYBOOK_TIMEOUT_SECONDS,
        check=False,
    )
    return PlaybookRun(completed.returncode, completed.stdout, completed.stderr, round(time.monotonic() - started, 1))


def run_task_batch(
    tasks: dict,
    workdir: Path,
    module_defaults: dict,
    aws_endpoint: str | None = None,
    gcs_endpoint: str | None = None,
    drop_environment=(),
) -> tuple:
    """Run many module calls in one ansible-playbook (one start-up instead of one per call): tasks maps a register name
    to {MODULE: ARGS}; each runs with ignore_errors. Returns ({register name: result}, PlaybookRun)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results_path = workdir / "results.json"
    play_tasks = [
        dict(task, name=register_name, register=register_name, ignore_errors=True)
        for register_name, task in tasks.items()
    ]
    saved = "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (name, name) for name in tasks)
    play_tasks.append(
        {
            "name": "Save the results",
            "ansible.builtin.copy": {"content": saved, "dest": str(results_path), "mode": "0600"},
        }
    )
    playbook = [
        {
            "name": "Batch",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "module_defaults": module_defaults,
            "tasks": play_tasks,
        }
    ]
    (workdir / "playbook.yml").write_text(json.dumps(playbook, indent=1))  # JSON is YAML
    run = run_playbook(
        str(workdir / "playbook.yml"),
        {},
        workdir,
        aws_endpoint=aws_endpoint,
        gcs_endpoint=gcs_endpoint,
        extra_args=("-i", "localhost,"),
        drop_environment=drop_environment,
    )
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    return results, run


def normalise_space(text: str) -> str:
    """Text with every run of whitespace as one space: messages wrap differently in playbook output."""
    return re.sub(r"\s+", " ", text)
