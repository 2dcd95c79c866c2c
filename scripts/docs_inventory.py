"""Write a Sphinx inventory (objects.inv format) of the docs.ansible.com pages the collection's docs link to.

The module pages refer to Ansible's own pages (return values, configuration) and to modules of other collections
(amazon.aws, community.aws, google.cloud, ansible.builtin). antsibull-docs' Sphinx set-up resolves those through
intersphinx, which downloads docs.ansible.com's inventory; that host is out of reach here, so this inventory stands in:
the same labels, pointing at the same pages. The modules listed are the ones the installed collections ship.

    python docs_inventory.py OUTPUT COLLECTIONS_ROOT
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import ansible

BASE = "https://docs.ansible.com/projects/ansible/latest/"
# Ansible's own pages that collection docs refer to by label (antsibull-docs writes these references).
ANSIBLE_PAGES = {
    "common_return_values": ("reference_appendices/common_return_values.html", "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html", "Ansible Configuration Settings"),
    "playbooks_variables": ("playbook_guide/playbooks_variables.html", "Using Variables"),
    "playbooks_reuse_roles": ("playbook_guide/playbooks_reuse_roles.html", "Roles"),
    "module_defaults": ("playbook_guide/playbooks_module_defaults.html", "Module defaults"),
}


def module_labels(collection: str, modules_dir: Path):
    namespace, name = collection.split(".")
    for path in sorted(modules_dir.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = path.stem
        yield (
            "ansible_collections.%s.%s_module" % (collection, module),
            "collections/%s/%s/%s_module.html" % (namespace, name, module),
            "%s.%s module" % (collection, module),
        )


def main() -> None:
    output, collections_root = Path(sys.argv[1]), Path(sys.argv[2])
    entries = [(label, page, title) for label, (page, title) in ANSIBLE_PAGES.items()]
    entries += module_labels("ansible.builtin", Path(ansible.__file__).parent / "modules")
    for namespace_dir in sorted((collections_root / "ansible_collections").iterdir()):
        for collection_dir in sorted(namespace_dir.iterdir()):
            collection = "%s.%s" % (namespace_dir.name, collection_dir.name)
            if collection != "segments.cloud" and (collection_dir / "plugins" / "modules").is_dir():
                entries += module_labels(collection, collection_dir / "plugins" / "modules")
    body = "".join("%s std:label -1 %s %s\n" % (label, page, title) for label, page, title in entries)
    header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: latest\n"
    header += "# The remainder of this file is compressed using zlib.\n"
    output.write_bytes(header.encode() + zlib.compress(body.encode()))
    print("%s: %d labels of docs.ansible.com pages" % (output, len(entries)))


if __name__ == "__main__":
    main()
