# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers for the onboarding role: grouping buckets into module calls, and the onboarding summary.

Nothing here does I/O. The role calls these through the filters in plugins/filter/onboard.py.
"""

from __future__ import annotations

SUMMARY_COLUMNS = ("host", "provider", "bucket", "result", "ready", "problems", "url_prefix")


def s3_bucket_groups(buckets, default_prefixes=None, default_kms=False, only=None):
    """Group S3 bucket entries (names, or dicts {name, prefixes, kms}) by their options.

    Returns a list of {"names": [...], "prefixes": [...] or None, "kms": bool}, one per distinct option set,
    in first-seen order, so the role makes one module call per group instead of one per bucket. With ``only``
    (a list of names), buckets not in it are left out, and so are groups left empty. Linear in the bucket count."""
    only = None if only is None else set(only)
    groups = {}
    seen = set()
    for entry in buckets or []:
        if isinstance(entry, dict):
            name = entry["name"]
            prefixes = entry.get("prefixes", default_prefixes)
            kms = entry.get("kms", default_kms)
        else:
            name, prefixes, kms = entry, default_prefixes, default_kms
        if (only is not None and name not in only) or name in seen:
            continue
        seen.add(name)
        prefixes = list(prefixes) if prefixes else None
        key = (tuple(prefixes or ()), bool(kms))
        groups.setdefault(key, {"names": [], "prefixes": prefixes, "kms": bool(kms)})["names"].append(name)
    return list(groups.values())


def _unique(names):
    seen = set()
    return [name for name in names if not (name in seen or seen.add(name))]


def s3_bucket_names(buckets):
    """The bucket names of S3 bucket entries (names or dicts with a name), without repeats, in order."""
    return _unique(entry["name"] if isinstance(entry, dict) else entry for entry in buckets or [])


def input_bucket_names(*bucket_lists):
    """The bucket names in role inputs that may not have passed validation yet, for messages: each argument is a
    list of names or of dicts with a name (or a lone name or dict); other values are left out."""
    names = []
    for buckets in bucket_lists:
        if isinstance(buckets, (str, dict)):
            buckets = [buckets]
        elif not isinstance(buckets, (list, tuple)):
            continue
        for entry in buckets:
            name = entry.get("name") if isinstance(entry, dict) else entry
            if isinstance(name, (str, int)):
                names.append(str(name))
    return _unique(names)


def bucket_results(task_results, names=None):
    """Per-bucket entries of a registered module result: a plain result, a loop result, or a skipped task ([]).

    The role registers with failed_when: false, which sets ``failed`` to false, so a call that failed as a whole
    (a bad option, no credentials: the module never got to a bucket) shows only as a result without ``buckets``.
    It becomes a failed entry, with the call's message, for each bucket the call was given: the loop item's
    ``names``, else ``names``, else one entry named "*" that stands for every bucket."""
    if not task_results:
        return []
    if "results" in task_results:
        entries = []
        for item_result in task_results["results"]:
            item = item_result.get("item")
            item_names = item.get("names") if isinstance(item, dict) else None
            entries.extend(bucket_results(item_result, item_names or names))
        return entries
    if task_results.get("skipped"):
        return []
    if "buckets" in task_results:
        return task_results["buckets"]
    msg = task_results.get("msg") or "the task failed before any bucket was tried"
    return [
        {"name": name, "failed": True, "changed": False, "msg": msg} for name in (["*"] if names is None else names)
    ]


def _entries(step):
    """A step as per-bucket entries: a list of them already, or a registered result (see bucket_results)."""
    return step if isinstance(step, list) else bucket_results(step)


def bucket_names_not_failed(names, task_results_list):
    """The names no registered result in ``task_results_list`` failed, in order: the buckets the next module may
    touch. A bucket whose audit (and so its backup) or an earlier write failed is left alone from then on."""
    failed = set()
    for task_results in task_results_list or []:
        for entry in bucket_results(task_results, names):
            if entry.get("failed"):
                failed.add(entry["name"])
    if "*" in failed:
        return []
    return [name for name in names or [] if name not in failed]


def changed_bucket_names(names, task_results_list):
    """The names some registered result in ``task_results_list`` changed, in order: the buckets worth verifying
    (an unchanged bucket is as the audit read it)."""
    changed = set()
    for task_results in task_results_list or []:
        changed.update(entry["name"] for entry in bucket_results(task_results, names) if entry.get("changed"))
    return [name for name in names or [] if name in changed]


def bucket_regions(audit):
    """{bucket name: region} of the buckets a registered segments_s3_info result found, for the bucket_regions option of
    the later S3 modules (so that they need not look the regions up again)."""
    return {entry["name"]: entry["region"] for entry in bucket_results(audit) if entry.get("region")}


def bucket_states(audit, names=None, parts=None):
    """{bucket name: audit entry} of the buckets a registered info result read (found and not failed), for the
    bucket_states option of the apply modules; with ``names``, only those buckets (one module call's); with ``parts``,
    each entry holds only those keys (the parts the module takes), so that the module's arguments stay small."""
    wanted = None if names is None else set(names)
    states = {}
    for entry in bucket_results(audit):
        if (
            entry.get("exists", True) is False
            or entry.get("failed")
            or (wanted is not None and entry["name"] not in wanted)
        ):
            continue
        states[entry["name"]] = entry if parts is None else {part: entry[part] for part in parts if part in entry}
    return states


def summary_rows(host, provider, steps, latest=None, names=None):
    """One summary row per bucket: a merge by bucket name of the per-bucket entries of each step.

    ``steps`` are the role's steps in order, the audit first, each as its per-bucket entries (bucket_results, which
    gives a call that failed as a whole a failed entry for each bucket it was given) or as a registered result.
    ``latest`` holds the entries of the buckets judged again after the changes (readiness, url_prefix, problems);
    the others keep the audit's. ``names`` are the host's buckets, in order (by default those the steps name).
    result is failed / changed / ok (a failure in any step wins); problems joins every failure message and the
    latest audit problems. An entry named "*" stands for every bucket. Linear in the number of entries."""
    step_entries = [_entries(step) for step in steps or []]
    latest_entries = _entries(latest) if latest else []
    names = list(names) if names is not None else []
    by_name = {name: [] for name in names}
    for entries in step_entries:
        for entry in entries:
            by_name.setdefault(entry["name"], []).append(entry)
    everyone = by_name.pop("*", [])
    audit_by_name = {entry["name"]: entry for entry in (step_entries[0] if step_entries else [])}
    latest_by_name = {entry["name"]: entry for entry in latest_entries}
    rows = []
    for name, entries in by_name.items():
        latest_audit = latest_by_name.get(name, audit_by_name.get(name, {}))
        failures = [entry["msg"] for entry in entries + everyone if entry.get("failed")]
        if latest_by_name.get(name, {}).get("failed"):
            failures.append(latest_by_name[name]["msg"])
        if failures:
            result = "failed"
        elif any(entry.get("changed") for entry in entries):
            result = "changed"
        else:
            result = "ok"
        # Several steps fail the same way on a missing bucket; say it once.
        problems = _unique(failures + (latest_audit.get("problems") or []))
        rows.append(
            dict(
                host=host,
                provider=provider,
                bucket=name,
                result=result,
                ready=bool(latest_audit.get("ready")) and not failures,
                problems=problems,
                url_prefix=latest_audit.get("url_prefix") or "",
            )
        )
    return rows


def host_rows(host_vars):
    """The summary rows a host recorded (its S3 rows, then its GCS rows), from its hostvars."""
    return list(host_vars.get("segments_s3_rows") or []) + list(host_vars.get("segments_gcs_rows") or [])


def summary_table(rows):
    """The summary rows as aligned text lines: a header, one line per bucket, and one indented line per problem
    (whole: a problem's last words are usually what to do)."""
    header = ("HOST", "PROVIDER", "BUCKET", "RESULT", "READY", "URL PREFIX")
    cells = [header] + [
        (
            row["host"],
            row["provider"],
            row["bucket"],
            row["result"],
            "yes" if row["ready"] else "no",
            row["url_prefix"] or "-",
        )
        for row in rows
    ]
    widths = [max(len(str(line[column])) for line in cells) for column in range(len(header))]
    lines = []
    for index, line in enumerate(cells):
        lines.append("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
            continue
        for problem in rows[index - 1]["problems"]:
            lines.append("    ! " + problem)
    failed = sum(1 for row in rows if row["result"] == "failed")
    changed = sum(1 for row in rows if row["result"] == "changed")
    ready = sum(1 for row in rows if row["ready"])
    lines.append("%d bucket(s): %d changed, %d failed, %d ready for Segments.ai" % (len(rows), changed, failed, ready))
    return lines
