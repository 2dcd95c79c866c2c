# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An AWX job, run the way AWX runs it: ``ansible-runner run`` on a private data directory laid out as AWX lays it out.

What AWX writes for a playbook job (awx/main/tasks/jobs.py in ansible/awx, BaseTask.run and RunJob):

- ``project/``: the project's checkout; here one playbook per action importing the collection's playbook, as
  docs/awx.md section 2 shows;
- ``inventory/hosts``: an executable script printing the inventory as JSON with every host's variables in
  ``_meta.hostvars`` (``Inventory.get_script_data``); hosts are ordered by name, and slice N of a sliced job holds
  ``hosts[N-1::slice_count]`` (``Inventory.get_sliced_hosts``);
- ``env/extravars``: the job template's extra variables and AWX's meta variables (``awx_job_id``, ...);
- ``env/cmdline``: ``-u root``, ``--forks``, ``-l`` and the verbosity flags;
- ``env/settings``: ansible-runner's settings (``suppress_ansible_output``, ``job_timeout``);
- ``env/envvars``: the job's environment. AWX hands it to ansible-runner as a parameter; the CLI reads it from this
  file. Credentials reach the job only here, injected as AWX's credential injectors inject them.

The job's process environment is otherwise empty of cloud settings: nothing of the test's own AWS variables leaks in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

RUNNER_SECONDS = 1800
PLAYBOOKS = {
    "onboard.yml": "segments.cloud.onboard",
    "audit.yml": "segments.cloud.audit",
    "offboard.yml": "segments.cloud.offboard",
}


def inject_aws_credential(env: dict, access_key: str, secret_key: str, security_token: str = "") -> None:
    """The "Amazon Web Services" credential type's injector (awx_plugins.credentials.injectors.aws): the access key
    and secret key always, the STS token as both AWS_SECURITY_TOKEN and AWS_SESSION_TOKEN when it is set."""
    env["AWS_ACCESS_KEY_ID"] = access_key
    env["AWS_SECRET_ACCESS_KEY"] = secret_key
    if security_token:
        env["AWS_SECURITY_TOKEN"] = security_token
        env["AWS_SESSION_TOKEN"] = env["AWS_SECURITY_TOKEN"]


def sliced_hosts(hosts: dict, slice_number: int = 1, slice_count: int = 1) -> list:
    """The host names of one slice, as AWX picks them: ordered by name, every slice_count-th from slice_number - 1."""
    names = sorted(hosts)
    if slice_count > 1 and slice_number > 0:
        names = names[slice_number - 1 :: slice_count]
    return names


def inventory_script_data(
    groups: dict, hosts: dict, all_vars: dict, slice_number: int = 1, slice_count: int = 1
) -> dict:
    """AWX's inventory script data: groups ({name: [host names]}), all.vars and _meta.hostvars of the slice's hosts."""
    kept = set(sliced_hosts(hosts, slice_number, slice_count))
    data = {"all": {"vars": all_vars, "children": sorted(groups)}}
    grouped = set()
    for group, members in groups.items():
        data[group] = {"hosts": [name for name in members if name in kept]}
        grouped.update(members)
    data["all"]["hosts"] = [name for name in sorted(kept) if name not in grouped]
    data["_meta"] = {"hostvars": {name: hosts[name] for name in sorted(kept)}}
    return data


@dataclass
class JobResult:
    """A finished runner job: its exit code and its artifacts folder."""

    rc: int
    private_data_dir: Path
    ident: str
    output: str

    @property
    def artifacts(self) -> Path:
        return self.private_data_dir / "artifacts" / self.ident

    @property
    def status(self) -> str:
        return (self.artifacts / "status").read_text().strip()

    def events(self) -> list:
        """The job events in the order the runner numbered them."""
        events = [json.loads(path.read_text()) for path in (self.artifacts / "job_events").glob("*.json")]
        return sorted(events, key=lambda event: event.get("counter", 0))

    def event_files_text(self) -> str:
        return "\n".join(path.read_text() for path in sorted((self.artifacts / "job_events").glob("*.json")))

    def stats(self) -> dict:
        """The playbook_on_stats event's data: per-host counts and the set_stats artifact_data AWX keeps."""
        found = [event for event in self.events() if event.get("event") == "playbook_on_stats"]
        assert len(found) == 1, "no playbook_on_stats event in %s" % self.artifacts
        return found[0]["event_data"]

    def task_events(self, event_name: str) -> list:
        return [event for event in self.events() if event.get("event") == event_name]


class AwxJob:
    """One job's private data directory. Fill it with the set_* methods, then run()."""

    def __init__(self, job_id: int, playbook: str, collections_root: str) -> None:
        self.job_id = job_id
        self.playbook = playbook
        self.collections_root = collections_root
        self.private_data_dir = Path(tempfile.mkdtemp(prefix="awx_%d_" % job_id))
        self.env: dict = {}
        self.extra_vars: dict = {}
        self.verbosity = 0
        self.forks = 5
        self.inventory: dict = {}

    def base_env(self) -> dict:
        """The part of the job environment AWX sets for every playbook job (RunJob.build_env), for a job whose
        execution environment carries the collection at collections_root."""
        return {
            "JOB_ID": str(self.job_id),
            "INVENTORY_ID": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "MAX_EVENT_RES": "700000",
            "AWX_HOST": "https://awx.example.com",
            "AWX_PRIVATE_DATA_DIR": str(self.private_data_dir),
            "ANSIBLE_COLLECTIONS_PATH": self.collections_root,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_FORCE_COLOR": "False",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
            "ANSIBLE_PARAMIKO_RECORD_HOST_KEYS": "False",
        }

    def write(self) -> None:
        root = self.private_data_dir
        for folder in ("project", "inventory", "env"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        for name, collection_playbook in PLAYBOOKS.items():
            (root / "project" / name).write_text(
                "---\n- name: Run %s\n  ansible.builtin.import_playbook: %s\n"
                % (collection_playbook, collection_playbook)
            )
        script = root / "inventory" / "hosts"
        script.write_text("#! %s\n# -*- coding: utf-8 -*-\nprint(%r)\n" % (sys.executable, json.dumps(self.inventory)))
        script.chmod(0o700)
        meta_vars = {
            "awx_job_id": self.job_id,
            "tower_job_id": self.job_id,
            "awx_job_launch_type": "manual",
            "awx_job_template_name": "Segments: %s" % self.playbook.split(".")[0],
            "awx_inventory_name": "Accounts",
        }
        (root / "env" / "extravars").write_text(yaml.safe_dump(dict(self.extra_vars, **meta_vars)))
        args = ["-u", "root", "--forks=%d" % self.forks]
        if self.verbosity:
            args.append("-" + "v" * min(5, self.verbosity))
        (root / "env" / "cmdline").write_text(" ".join(args))
        (root / "env" / "settings").write_text(json.dumps({"job_timeout": 0, "suppress_ansible_output": True}))
        (root / "env" / "envvars").write_text(yaml.safe_dump(dict(self.base_env(), **self.env)))
        for path in (root / "env").iterdir():
            path.chmod(0o600)

    def run(self) -> JobResult:
        """ansible-runner run PRIVATE_DATA_DIR -p PLAYBOOK --ident JOB_ID, in an environment without cloud settings."""
        self.write()
        bin_folder = Path(sys.executable).parent
        process_env = {
            "PATH": "%s:/usr/bin:/bin" % bin_folder,
            "HOME": str(self.private_data_dir),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        completed = subprocess.run(
            [
                str(bin_folder / "ansible-runner"),
                "run",
                str(self.private_data_dir),
                "-p",
                self.playbook,
                "--ident",
                str(self.job_id),
            ],
            env=process_env,
            capture_output=True,
            text=True,
            timeout=RUNNER_SECONDS,
            check=False,
        )
        return JobResult(
            completed.returncode, self.private_data_dir, str(self.job_id), completed.stdout + completed.stderr
        )


def job_output(result: JobResult) -> str:
    """The job's stdout as AWX shows it (for failure messages)."""
    stdout = result.artifacts / "stdout"
    return (stdout.read_text() if stdout.exists() else "") + "\n" + result.output


def collections_root() -> str:
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(Path(__file__).resolve().parents[5])
