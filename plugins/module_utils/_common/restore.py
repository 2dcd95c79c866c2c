# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json

from ansible_collections.segments.cloud.plugins.module_utils._common.fleet import (
    BucketError,
    fleet_argument_spec,
    fleet_option_problems,
)

# "from __future__" must be the first statement, so a leading string literal would not become the module docstring.
__doc__ = """Loading the backups segments_backup writes, and the pure comparison that decides whether a restore is safe.

A restore puts back what the segments.cloud modules manage on a bucket, as a backup holds it. It is safe only when
what is NOT ours (other statements, CORS rules and entries, IAM bindings) is still as the backup saw it: otherwise
writing the backup back would undo someone else's later change. The functions here say, in sentences, what of that
foreign part differs; nothing here does I/O except read_backup_file.
"""

PROVIDERS = ("s3", "gcs")
PROVIDER_ARTICLES = {"s3": "an S3", "gcs": "a GCS"}
# The managed parts of each provider's backup record, as segments_backup stores them.
MANAGED_PARTS = {"s3": ("policy", "cors_rules", "kms_key_policy"), "gcs": ("cors", "iam_policy")}
# Parts a record must hold; the others may be missing or null, meaning "not backed up, leave alone".
REQUIRED_PARTS = {"s3": ("policy", "cors_rules"), "gcs": ("cors",)}


def restore_argument_spec() -> dict:
    """The options both restore modules take (documented in the segments.cloud.restore doc fragment): backup, force, concurrency."""
    return dict(
        backup=dict(type="list", elements="path", required=True, aliases=["backups"]),
        force=dict(type="bool", default=False),
        concurrency=fleet_argument_spec()["concurrency"],
    )


def option_problems(params: dict) -> list:
    """Sentences for the shared options that no restore can work with (concurrency below 1); [] when they are fine."""
    return fleet_option_problems(params)


def forced_warnings(differences: list) -> list:
    """The warning for a bucket restored with force=true over foreign changes, or [] when there were none."""
    return ["force=true overwrote what changed since the backup: %s" % "; ".join(differences)] if differences else []


def read_backup_file(path: str) -> tuple:
    """Return (record, None) for a backup file holding a JSON object, else (None, a sentence naming the file and the problem)."""
    try:
        with open(path, encoding="utf-8") as backup_file:
            record = json.load(backup_file)
    except OSError as error:
        return None, "backup file %s cannot be read: %s." % (path, error.strerror or error)
    except ValueError as error:
        return None, "backup file %s is not valid JSON: %s." % (path, error)
    if not isinstance(record, dict):
        return None, "backup file %s does not hold a JSON object, so it is not a segments.cloud backup." % path
    return record, None


def record_problem(record: dict, path: str, provider: str) -> str | None:
    """Return None when record is a backup of one bucket of provider in the shape segments_backup writes, else a sentence saying why not."""
    if record.get("provider") != provider:
        if record.get("provider") in PROVIDERS:
            return "backup file %s holds %s backup; restore it with segments.cloud.segments_%s_restore." % (
                path,
                PROVIDER_ARTICLES[record["provider"]],
                record["provider"],
            )
        return "backup file %s names no provider (s3 or gcs), so it is not a segments.cloud backup." % path
    if not isinstance(record.get("bucket"), str) or not record["bucket"]:
        return "backup file %s names no bucket." % path
    missing = [part for part in REQUIRED_PARTS[provider] if part not in record]
    if missing:
        return "backup file %s lacks %s, so it cannot say what to restore." % (path, " and ".join(missing))
    shapes = {"policy": dict, "kms_key_policy": dict, "iam_policy": dict, "cors_rules": list, "cors": list}
    for part in MANAGED_PARTS[provider]:
        value = record.get(part)
        if value is not None and not isinstance(value, shapes[part]):
            return "backup file %s holds a %s that is not a JSON %s." % (
                path,
                part,
                "object" if shapes[part] is dict else "list",
            )
    if record.get("kms_key_policy") is not None and not (record.get("encryption") or {}).get("kms_key"):
        return "backup file %s holds a KMS key policy but no encryption.kms_key naming the key." % path
    if record.get("iam_policy") is not None and not isinstance(
        record["iam_policy"].get("bindings", []), (list, type(None))
    ):
        return "backup file %s holds IAM bindings that are not a list." % path
    return None


def backups_by_bucket(paths: list, provider: str, read=read_backup_file) -> tuple:
    """Return ({bucket: (path, record)}, problems) for the backup files of provider; problems lists every unusable file
    and every bucket named by two files, as sentences. read(path) -> (record, problem) is read_backup_file unless given."""
    found: dict = {}
    problems: list = []
    for path in paths:
        record, problem = read(path)
        problem = problem or record_problem(record, path, provider)
        if problem:
            problems.append(problem)
            continue
        bucket = record["bucket"]
        if bucket in found and found[bucket][0] != path:
            problems.append(
                "backup files %s and %s both hold bucket '%s'; pass only the one to restore."
                % (found[bucket][0], path, bucket)
            )
            continue
        found[bucket] = (path, record)
    return found, problems


def _multiset_equal(first: list, second: list, equal) -> bool:
    """True when second is a reordering of first, items compared with equal (an equivalence)."""
    if len(first) != len(second):
        return False
    unmatched = list(second)
    for item in first:
        match = next((position for position, other in enumerate(unmatched) if equal(item, other)), None)
        if match is None:
            return False
        del unmatched[match]
    return True


def _grouped(items: list, label_of) -> dict:
    groups: dict = {}
    for item in items:
        groups.setdefault(label_of(item), []).append(item)
    return groups


def labelled_differences(backup_items: list, current_items: list, label_of, equal) -> list:
    """Sentences saying which labelled items were removed, added or changed between backup_items and current_items.

    Items are grouped by label_of(item) (for example "statement DataTeamRead"); a group compares as a multiset with equal,
    so order and representation do not count. Labels of the backup come first, then new ones, each in order of appearance."""
    backup_groups, current_groups = _grouped(backup_items, label_of), _grouped(current_items, label_of)
    differences = []
    for label in list(backup_groups) + [label for label in current_groups if label not in backup_groups]:
        before, now = backup_groups.get(label, []), current_groups.get(label, [])
        if not now:
            differences.append("%s removed" % label)
        elif not before:
            differences.append("%s added" % label)
        elif not _multiset_equal(before, now, equal):
            differences.append("%s changed" % label)
    return differences


def words(value) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(str(item) for item in values)


def place_difference(backup_place: str | None, current_place: str | None, noun: str) -> list:
    """A one-sentence list when the bucket's region or location (noun) is not the backup's (the bucket was made again
    elsewhere), else []; case and an unknown backup value do not count."""
    if not backup_place or not current_place or str(backup_place).lower() == str(current_place).lower():
        return []
    return [
        "the bucket's %s is %s now but was %s in the backup, so it may be another bucket of the same name"
        % (noun, current_place, backup_place)
    ]


def refusal(bucket: str, differences: list, during: str | None = None) -> BucketError:
    """The BucketError that refuses to restore bucket because the parts that are not ours changed since the backup; with during
    (the part being written, such as "bucket policy"), because they changed while the restore ran, so that part was not written."""
    if during:
        problem = (
            "refused, because what is not Segments' in the %s changed while the restore ran: %s; the %s was not written "
            "(parts restored before it stay restored)" % (during, "; ".join(differences), during)
        )
        return BucketError(
            bucket, "restore", problem, "Another tool is changing this bucket; look at those changes, then run again"
        )
    return BucketError(
        bucket,
        "restore",
        "refused, because what is not Segments' changed since the backup: %s; nothing was written"
        % "; ".join(differences),
        "Look at those changes first; run again with force=true to overwrite them with the backup, or keep them and leave the bucket as it is",
    )


def guarded_restore(bucket: str, what: str, desired_for, foreign_differences, equal, force: bool):
    """Return merge(current) -> (desired, needs_write) for a converge loop writing the part named what: desired_for(current) is the
    backup's state, written only when not equal(current, desired). Unless force, it raises refusal(during=what) when
    foreign_differences(current) finds any, so a change that lands between the first read and the write is never overwritten."""

    def merge(current):
        if not force:
            differences = foreign_differences(current)
            if differences:
                raise refusal(bucket, differences, during=what)
        desired = desired_for(current)
        return desired, not equal(current, desired)

    return merge


def backup_value(value):
    """desired_for(current) that always answers a copy of value: the state a backup holds does not depend on what is there now."""
    return lambda _current: copy.deepcopy(value)
