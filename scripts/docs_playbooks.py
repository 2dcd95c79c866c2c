"""Write the documentation site's page for the playbooks into a copy of the collection (TREE).

antsibull-docs documents modules, filters and roles from their own docs; playbooks have none, so their page is made
from what each playbook says about itself: the comment block at its top (usage lines, then what it does) and its
plays' names. It lands in TREE/docs/docsite/ (an extra-docs page), never in the working tree: the playbook stays the
one place its description is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def header(path: Path) -> tuple[list[str], list[str]]:
    """The usage lines (each ``ansible-playbook ...`` line and the indented lines under it) and the prose lines."""
    usage: list[str] = []
    prose: list[str] = []
    for line in path.read_text().splitlines():
        if line.strip() == "---":
            continue
        if not line.startswith("#"):
            break
        text = line[2:] if line.startswith("# ") else line[1:]
        in_usage = bool(usage) and not prose
        if text.startswith("ansible-playbook") or (in_usage and text.startswith("  ")):
            usage.append(text.rstrip())
        else:
            prose.append(text.strip())
    return usage, prose


def page(playbooks: list[Path]) -> str:
    lines = [
        ".. _ansible_collections.segments.cloud.docsite.playbooks:",
        "",
        "Playbooks",
        "=========",
        "",
        "The collection ships these playbooks; run them by name, for example"
        " ``ansible-playbook segments.cloud.onboard -i accounts.yml``. Onboard, offboard and audit run the role"
        " :ansplugin:`segments.cloud.onboard#role` and take its options as variables.",
        "",
    ]
    for path in playbooks:
        name = "segments.cloud.%s" % path.stem
        plays = yaml.safe_load(path.read_text()) or []
        usage, prose = header(path)
        lines += [name, "-" * len(name), ""]
        if prose:
            lines += [" ".join(prose), ""]
        if usage:
            lines += [".. code-block:: console", ""] + ["  " + line for line in usage] + [""]
        names = [play.get("name") for play in plays if isinstance(play, dict) and play.get("name")]
        if names:
            lines += ["Plays: " + "; ".join("*%s*" % play_name for play_name in names) + ".", ""]
    return "\n".join(lines)


def main() -> None:
    tree = Path(sys.argv[1])
    playbooks = sorted((tree / "playbooks").glob("*.yml"))
    docsite = tree / "docs" / "docsite"
    (docsite / "rst").mkdir(parents=True, exist_ok=True)
    (docsite / "rst" / "playbooks.rst").write_text(page(playbooks))
    (docsite / "extra-docs.yml").write_text("---\nsections:\n  - title: Guides\n    toctree:\n      - playbooks\n")


if __name__ == "__main__":
    main()
