# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The execution environment files generate a build context, and declare what the modules need.

Nothing is built and no container runtime is needed: ``ansible-builder create`` only writes the build context,
and ``ansible-builder introspect`` reads the collection-level metadata the way an EE build does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_BUILDER = shutil.which("ansible-builder")

needs_ansible_builder = pytest.mark.skipif(
    ANSIBLE_BUILDER is None,
    reason="ansible-builder is not on PATH (it is pinned in test-requirements.txt; run through scripts/test or "
    "activate .work/venv/tools)",
)


def _load_yaml(relative_path):
    return yaml.safe_load((COLLECTION_ROOT / relative_path).read_text(encoding="utf-8"))


def _requirement_lines(relative_path):
    lines = (COLLECTION_ROOT / relative_path).read_text(encoding="utf-8").splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def _pinned_version(package):
    for line in _requirement_lines("test-requirements.txt"):
        match = re.fullmatch(r"%s==(\S+)" % re.escape(package), line)
        if match:
            return match.group(1)
    raise AssertionError("%s is not pinned in test-requirements.txt" % package)


def _run(*args):
    completed = subprocess.run(
        [ANSIBLE_BUILDER, *args], cwd=COLLECTION_ROOT, capture_output=True, text=True, check=False, timeout=300
    )
    assert completed.returncode == 0, "ansible-builder %s failed:\n%s\n%s" % (
        " ".join(args),
        completed.stdout,
        completed.stderr,
    )
    return completed.stdout


def test_ee_pins_follow_test_requirements_and_galaxy_yml():
    definition = _load_yaml("execution-environment.yml")
    dependencies = definition["dependencies"]
    assert definition["version"] == 3
    assert dependencies["ansible_core"]["package_pip"] == "ansible-core==%s" % _pinned_version("ansible-core")
    assert dependencies["python"] == "requirements.txt"
    assert dependencies["system"] == "bindep.txt"
    galaxy = _load_yaml("galaxy.yml")
    assert {"name": "segments.cloud", "version": galaxy["version"]} in dependencies["galaxy"]["collections"]


def test_collection_metadata_names_the_files_at_the_collection_root():
    # ansible-builder resolves these against the installed collection's root, not against meta/.
    dependencies = _load_yaml("meta/execution-environment.yml")["dependencies"]
    for kind, file_name in (("python", "requirements.txt"), ("system", "bindep.txt")):
        assert dependencies[kind] == file_name
        assert (COLLECTION_ROOT / file_name).is_file()


@needs_ansible_builder
def test_ansible_builder_creates_the_build_context(tmp_path):
    context = tmp_path / "context"
    _run(
        "create", "--file", "execution-environment.yml", "--context", str(context), "--output-filename", "Containerfile"
    )
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert "ansible-core==%s" % _pinned_version("ansible-core") in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "requirements.txt").read_text(encoding="utf-8") == (
        COLLECTION_ROOT / "requirements.txt"
    ).read_text(encoding="utf-8")
    assert (context / "_build" / "bindep.txt").is_file()
    galaxy_requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert [collection["name"] for collection in galaxy_requirements["collections"]] == ["segments.cloud"]


@needs_ansible_builder
def test_ansible_builder_finds_the_module_requirements_of_the_installed_collection(tmp_path):
    # Lay the collection out as an EE build installs it, with only the files the metadata points at.
    installed = tmp_path / "ansible_collections" / "segments" / "cloud"
    (installed / "meta").mkdir(parents=True)
    for relative_path in ("meta/execution-environment.yml", "requirements.txt", "bindep.txt", "galaxy.yml"):
        shutil.copyfile(COLLECTION_ROOT / relative_path, installed / relative_path)
    dependencies = yaml.safe_load(_run("introspect", "--sanitize", str(tmp_path)))
    found = [entry.split("#", 1)[0].strip() for entry in dependencies["python"]]
    assert found == _requirement_lines("requirements.txt")
    assert dependencies["system"] == []
