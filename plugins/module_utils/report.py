# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers for the onboarding role: grouping buckets into module calls, and the onboarding summary.

Nothing here does I/O. The role calls these through the filters in plugins/filter/onboard.py.
"""

from __future__ import annotations

SUMMARY_COLUMNS = ("host", "provider", "bucket", "result", "ready", "problems", "url_prefix")


def s3_bucket_groups(buckets, default_prefixes=None, default_kms=False):
    """Group S3 bucket entries (names, or dicts {name, prefixes, kms}) by their options.

    Returns a list of {"names": [...], "prefixes": [...] or None, "kms": bool}, one per distinct option set,
    in first-seen order, so the role makes one module call per group instead of one per bucket."""
    groups = {}
    for entry in buckets or []:
        if isinstance(entry, dict):
            name = entry["name"]
            prefixes = entry.get("prefixes", default_prefixes)
            kms = entry.get("kms", default_kms)
        else:
            name, prefixes, kms = entry, default_prefixes, default_kms
        prefixes = list(prefixes) if prefixes else None
        key = (tuple(prefixes or ()), bool(kms))
        group = groups.setdefault(key, {"names": [], "prefixes": prefixes, "kms": bool(kms)})
        if name not in group["names"]:
            group["names"].append(name)
    return list(groups.values())


def s3_bucket_names(buckets):
    """The bucket names of S3 bucket entries (names or dicts with a name), without repeats, in order."""
    names = []
    for entry in buckets or []:
        name = entry["name"] if isinstance(entry, dict) else entry
        if name not in names:
            names.append(name)
    return names


def _bucket_results(task_results):
    """Per-bucket entries of registered module results: a plain result, a loop result, or a skipped task."""
    if not task_results:
        return []
    if "results" in task_results:
        entries = []
        for item_result in task_results["results"]:
            entries.extend(_bucket_results(item_result))
        return entries
    if task_results.get("skipped"):
        return []
    if "buckets" in task_results:
        return task_results["buckets"]
    if task_results.get("failed"):
        # The whole call failed before any bucket was tried (bad credentials, bad option).
        return [{"name": "*", "failed": True, "changed": False, "msg": task_results.get("msg", "the task failed")}]
    return []


def summary_rows(host, provider, audit, applied, verified=None):
    """One summary row per bucket from the registered audit, apply (one or more) and verify results.

    result is failed / changed / ok (failures of any step win); ready and url_prefix come from the verify
    audit when there is one, else from the first audit; problems joins every failure message and audit problem."""
    audit_by_name = {entry["name"]: entry for entry in _bucket_results(audit)}
    verify_by_name = {entry["name"]: entry for entry in _bucket_results(verified)}
    apply_entries = []
    for apply_result in applied or []:
        apply_entries.extend(_bucket_results(apply_result))
    names = list(audit_by_name)
    for entry in apply_entries + list(verify_by_name.values()):
        if entry["name"] not in names:
            names.append(entry["name"])
    rows = []
    for name in names:
        audit_entry = audit_by_name.get(name, {})
        latest_audit = verify_by_name.get(name, audit_entry)
        applied_here = [entry for entry in apply_entries if entry["name"] in (name, "*")]
        failures = [entry["msg"] for entry in applied_here + [audit_entry] if entry.get("failed")]
        if verify_by_name.get(name, {}).get("failed"):
            failures.append(verify_by_name[name]["msg"])
        if failures:
            result = "failed"
        elif any(entry.get("changed") for entry in applied_here):
            result = "changed"
        else:
            result = "ok"
        problems = []
        for problem in failures + latest_audit.get("problems", []):
            # Several steps fail the same way on a missing bucket; say it once.
            if problem not in problems:
                problems.append(problem)
        rows.append(dict(
            host=host,
            provider=provider,
            bucket=name,
            result=result,
            ready=bool(latest_audit.get("ready")) and not failures,
            problems=problems,
            url_prefix=latest_audit.get("url_prefix") or "",
        ))
    return rows


def summary_table(rows, max_problem_width=100):
    """The summary rows as aligned text lines: a header, one line per bucket, and one indented line per problem."""
    header = ("HOST", "PROVIDER", "BUCKET", "RESULT", "READY", "URL PREFIX")
    cells = [header] + [
        (row["host"], row["provider"], row["bucket"], row["result"], "yes" if row["ready"] else "no", row["url_prefix"] or "-")
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
            text = problem if len(problem) <= max_problem_width else problem[:max_problem_width - 3] + "..."
            lines.append("    ! " + text)
    failed = sum(1 for row in rows if row["result"] == "failed")
    changed = sum(1 for row in rows if row["result"] == "changed")
    ready = sum(1 for row in rows if row["ready"])
    lines.append("%d bucket(s): %d changed, %d failed, %d ready for Segments.ai" % (len(rows), changed, failed, ready))
    return lines
