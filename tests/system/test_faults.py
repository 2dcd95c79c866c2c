# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Issue 7, part 2: the modules over 100 buckets with 20% and 50% of their requests faulted by faultproxy.py,
in front of the real LocalStack and GCS emulator.

A third of the buckets already hold a customer's own policy statements and CORS rules (or CORS entries and IAM
bindings), written directly, not through the proxy. After the run the true state is read directly and every
bucket must be either onboarded with its foreign parts exactly intact (reported ok) or exactly as before
(reported failed). Buckets lost must be 0, tracebacks 0; the figures go to tests/output/system/faults.json and
the terminal summary.

Timeouts: the S3 modules take amazon.aws's standard ``aws_config`` option, whose ``read_timeout`` botocore honours,
so the S3 runs set read_timeout=2 s and "slow" answers are held 3 s: a real timeout on a change that landed. The GCS
modules offer no timeout option and google-cloud-storage waits 60 s, so the fault runs leave "slow" out and a
run on three more buckets holds the first write to each 61 s instead.

Each test starts all its runs at once (both rates, both modules, each with its own proxy and seed, each rate on its
own buckets): most of a faulted run is spent waiting in retry back-off, so the test takes as long as its slowest run.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bucket_state import (
    GCS_MEMBER,
    GCS_ROLE,
    OUR_RULE_ID,
    OUR_SID,
    binding_meaning,
    foreign_cors_rules,
    foreign_gcs_bindings,
    foreign_gcs_cors,
    foreign_policy,
    is_our_gcs_entry,
    judge_gcs_cors,
    judge_gcs_iam,
    judge_s3_cors,
    judge_s3_policy,
    read_s3_cors,
    read_s3_policy,
    tally,
)
from faultproxy import FAULT_KINDS, FaultProxy
from helpers_clouds import our_cors_rule, our_gcs_cors_entry, our_statement

BUCKET_COUNT = int(os.environ.get("SEGMENTS_SYSTEM_FAULT_BUCKETS") or 100)
# The client's timeout is short so that injected slow answers time out, but not so short that LocalStack's own answers
# do on a loaded machine (the test runner runs other stages beside this one).
S3_READ_TIMEOUT_SECONDS = 5
S3_SLOW_SECONDS = 6
GCS_CLIENT_TIMEOUT_SECONDS = 60  # google-cloud-storage's default; the modules do not change it
GCS_FAULT_KINDS = tuple(kind for kind in FAULT_KINDS if kind != "slow")
FAULT_RUNS = ((0.2, 20), (0.5, 50))  # (fault rate, seed)
INFO_RATE, INFO_SEED = 0.5, 55
# Most of a faulted run is spent in retry back-off, so more workers than the default 16 keep the wall time down;
# each bucket is still handled by one worker, exactly as with fewer.
FAULT_CONCURRENCY = 50
EVIDENCE_BUCKETS = 3


def has_foreign_parts(index: int) -> bool:
    """A third of the buckets start with a customer's configuration."""
    return index % 3 == 0


def seed_info_bucket(clouds, bucket: str, index: int) -> None:
    """For the info runs: a third of the buckets with the customer's policy and CORS, a third with ours added, a third
    bare."""
    if index % 3 == 2:
        return
    policy, rules = foreign_policy(bucket), foreign_cors_rules()
    if index % 3 == 1:
        policy["Statement"].append(our_statement(bucket))
        rules.append(our_cors_rule())
    clouds.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    clouds.s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})


def gcs_info_spec(name: str, index: int) -> dict:
    """For the info runs: a third of the buckets with the customer's CORS and bindings, a third with ours added, a third
    bare."""
    if index % 3 == 2:
        return {"name": name}
    cors, bindings = foreign_gcs_cors(), foreign_gcs_bindings()
    if index % 3 == 1:
        cors.append(our_gcs_cors_entry())
        bindings.append({"role": GCS_ROLE, "members": [GCS_MEMBER]})
    return {"name": name, "cors": cors, "bindings": bindings}


class FailedButLanded(AssertionError):
    """A bucket was reported failed although its change landed: not 'failed with its before-state intact'."""


class UnmappedError(AssertionError):
    """A bucket failed with fleet.py's "unexpected error" message: an exception no error mapper knew (no action, no
    remedy)."""


class ChangedMisreported(AssertionError):
    """A bucket this run changed was reported changed=false (and so left out of the diff)."""


@dataclass
class FaultRun:
    """One module run through its own proxy: the case name, the module and its args, the buckets, then the outcome."""

    case: str
    module: str
    args: dict
    buckets: list
    proxy: FaultProxy
    endpoint_option: str
    defaults: dict = field(default_factory=dict)
    run: object = None

    def start(self, run_tasks):
        """Run the module through the proxy (blocking); keep the AnsibleRun in .run."""
        self.run = run_tasks(
            [("run", "segments.cloud.%s" % self.module, dict(self.args, name=self.buckets))],
            **{self.endpoint_option: self.proxy.url},
            **self.defaults,
        )
        return self


def run_all_at_once(runs: list, run_tasks) -> None:
    """Run every FaultRun in parallel (one ansible-playbook each) and wait for all."""
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        list(pool.map(lambda fault_run: fault_run.start(run_tasks), runs))


def figures_of(fault_run: FaultRun, verdicts: dict) -> dict:
    """The figures of one module run: the proxy's counters and the judged buckets."""
    run, proxy = fault_run.run, fault_run.proxy
    figures = tally(fault_run.buckets, run.results["run"], verdicts)
    stats = proxy.stats()
    figures.update(
        requests=stats["requests"],
        faults=stats["faults"],
        faults_by_kind=stats["faults_by_kind"],
        faults_on_reads=stats["faults_on_reads"],
        faults_on_writes=stats["faults_on_writes"],
        retries=stats["retries"],
        retries_after=stats["retries_after"],
        faults_not_retried=stats["faults_not_retried"],
        preconditions_failed=stats["preconditions_failed"],
        requests_by_operation=stats["requests_by_operation"],
        tracebacks=len(run.tracebacks()),
        seconds=run.seconds,
    )
    # The requests the proxy saw for a few buckets of each kind of finding: the evidence for a report.
    for finding in ("failed_but_landed", "changed_misreported"):
        figures["details"]["%s_requests" % finding] = {
            bucket: [
                "%s -> %s%s" % (event["operation"], event["status"], " (%s)" % event["fault"] if event["fault"] else "")
                for event in proxy.events(bucket)
            ]
            for bucket in figures["details"][finding][:EVIDENCE_BUCKETS]
        }
    return figures


def judge_and_assert(runs: list, verdicts_of, true_state, record_figures) -> dict:
    """Record every run's figures, then demand the issue's bar of each: no traceback, nothing lost or half written (an
    info run: nothing written, every answer true); then every failure mapped to a message with a remedy, no bucket
    reported failed whose change landed, and changed exactly right. Return the figures by case."""
    all_figures, info_runs, figures_by_case = [], [], {}
    for fault_run in runs:
        if fault_run.module.endswith("_info"):
            figures = info_figures(fault_run, true_state)
            info_runs.append(figures)
        else:
            figures = figures_of(fault_run, verdicts_of(fault_run))
            all_figures.append(figures)
        record_figures("faults", fault_run.case, figures)
        figures_by_case[fault_run.case] = figures
    for fault_run in runs:
        fault_run.run.assert_no_traceback()
    for figures in all_figures + info_runs:
        assert figures["faults"] > 0
    for figures in all_figures:
        assert_nothing_lost(figures)
    for figures in info_runs:
        assert_info_true(figures)
    for figures in all_figures:
        assert_errors_mapped(figures)
        assert_failed_means_untouched(figures)
    for figures in all_figures:
        assert_changed_reported(figures)
    return figures_by_case


class InfoWrong(AssertionError):
    """An info module reported a bucket as answered (not failed) with a state that is not the bucket's true state."""


def info_figures(fault_run: FaultRun, true_state) -> dict:
    """Figures of an info module run: it must never write, and every bucket it answers must be answered truly.
    true_state(bucket, result) -> list of (field, reported, true) that differ."""
    run, proxy = fault_run.run, fault_run.proxy
    reported = {result["name"]: result for result in run.results["run"].get("buckets") or []}
    stats = proxy.stats()
    figures = dict(
        buckets=len(fault_run.buckets),
        requests=stats["requests"],
        writes=stats["writes"],
        faults=stats["faults"],
        faults_by_kind=stats["faults_by_kind"],
        retries=stats["retries"],
        retries_after=stats["retries_after"],
        faults_not_retried=stats["faults_not_retried"],
        ok=0,
        failed=0,
        lost=0,
        unmapped_errors=0,
        messages_without_bucket=0,
        info_wrong=0,
        tracebacks=len(run.tracebacks()),
        seconds=run.seconds,
        details=dict(info_wrong={}, failure_messages={}),
    )
    for bucket in fault_run.buckets:
        result = reported.get(bucket)
        if result is None:
            figures["lost"] += 1
            continue
        if result.get("failed"):
            figures["failed"] += 1
            figures["details"]["failure_messages"][bucket] = result.get("msg") or ""
            figures["unmapped_errors"] += "unexpected error" in (result.get("msg") or "")
            figures["messages_without_bucket"] += bucket not in (result.get("msg") or "")
            continue
        figures["ok"] += 1
        differences = true_state(bucket, result)
        if differences:
            figures["info_wrong"] += 1
            figures["details"]["info_wrong"][bucket] = dict(
                differences=differences,
                problems=result.get("problems"),
                requests=[
                    "%s -> %s%s"
                    % (event["operation"], event["status"], " (%s)" % event["fault"] if event["fault"] else "")
                    for event in proxy.events(bucket)
                ],
            )
    return figures


def assert_info_true(figures: dict) -> None:
    """An info run under faults: no write, no traceback, a result for every bucket, failures mapped, answers true."""
    assert figures["writes"] == 0 and figures["tracebacks"] == 0 and figures["lost"] == 0, figures
    assert figures["messages_without_bucket"] == 0, figures["details"]["failure_messages"]
    if figures["unmapped_errors"]:
        raise UnmappedError("info: %s" % figures["details"]["failure_messages"])
    if figures["info_wrong"]:
        raise InfoWrong(
            "%d bucket(s) answered with a state that is not true: %s"
            % (figures["info_wrong"], dict(list(figures["details"]["info_wrong"].items())[:EVIDENCE_BUCKETS]))
        )


def assert_nothing_lost(figures: dict) -> None:
    """The issue's bar: no bucket lost or half written, no traceback, every failure a message naming its bucket."""
    details = figures["details"]
    assert figures["tracebacks"] == 0
    assert figures["lost"] == 0, details["lost"]
    assert figures["half_written"] == 0, details["lost"]
    assert figures["messages_without_bucket"] == 0, details["failure_messages"]
    assert figures["ok"] + figures["failed"] == figures["buckets"]


def assert_errors_mapped(figures: dict) -> None:
    """Every failure went through an error mapper: it names the call and the remedy."""
    if figures["unmapped_errors"]:
        raise UnmappedError(
            "%d bucket(s) failed with an unmapped error: %s"
            % (
                figures["unmapped_errors"],
                {name: figures["details"]["failure_messages"][name] for name in figures["details"]["unmapped_errors"]},
            )
        )


def assert_failed_means_untouched(figures: dict) -> None:
    """Reported failed -> before-state intact: a bucket whose change landed must not be reported failed."""
    if figures["failed_but_landed"]:
        raise FailedButLanded(
            "%d bucket(s) reported failed although the change landed (failed, but not 'before-state intact'): %s; "
            "messages: %s; requests: %s"
            % (
                figures["failed_but_landed"],
                figures["details"]["failed_but_landed"],
                {
                    name: figures["details"]["failure_messages"][name]
                    for name in figures["details"]["failed_but_landed"][:EVIDENCE_BUCKETS]
                },
                figures["details"]["failed_but_landed_requests"],
            )
        )


def assert_changed_reported(figures: dict) -> None:
    """Every bucket the run onboarded is reported changed (none had our part before)."""
    if figures["changed_misreported"]:
        raise ChangedMisreported(
            "%d bucket(s) changed by the run were reported changed=false: %s; requests: %s"
            % (
                figures["changed_misreported"],
                figures["details"]["changed_misreported"],
                figures["details"]["changed_misreported_requests"],
            )
        )


def test_s3_modules_under_faults(clouds, fault_proxy, bucket_names, s3_buckets, run_tasks, record_figures):
    """segments_s3_access and segments_s3_cors over 100 buckets at 20% and at 50% faults."""
    runs, policies_before, cors_before = [], {}, {}
    for rate, seed in FAULT_RUNS:
        names = bucket_names("flt-s3-%d" % round(rate * 100))
        buckets = s3_buckets(names.names(BUCKET_COUNT))
        for index, bucket in enumerate(buckets):
            if has_foreign_parts(index):
                clouds.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(foreign_policy(bucket)))
                clouds.s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": foreign_cors_rules()})
            policies_before[bucket] = read_s3_policy(clouds.s3, bucket)
            cors_before[bucket] = read_s3_cors(clouds.s3, bucket)
        for seed_offset, module in enumerate(("segments_s3_access", "segments_s3_cors")):
            proxy = fault_proxy(
                "s3", rate=rate, seed=seed + seed_offset, slow_seconds=S3_SLOW_SECONDS, key_normalizer=names.normalize
            )
            runs.append(
                FaultRun(
                    "%s@%s" % (module, rate),
                    module,
                    {"concurrency": FAULT_CONCURRENCY},
                    buckets,
                    proxy,
                    "aws_endpoint",
                    {
                        "aws_defaults": {
                            "aws_config": {
                                "read_timeout": S3_READ_TIMEOUT_SECONDS,
                                "connect_timeout": S3_READ_TIMEOUT_SECONDS,
                            }
                        }
                    },
                )
            )
    info_names = bucket_names("flt-s3-info")
    info_buckets = s3_buckets(info_names.names(BUCKET_COUNT))
    for index, bucket in enumerate(info_buckets):
        seed_info_bucket(clouds, bucket, index)
    proxy = fault_proxy(
        "s3", rate=INFO_RATE, seed=INFO_SEED, slow_seconds=S3_SLOW_SECONDS, key_normalizer=info_names.normalize
    )
    runs.append(
        FaultRun(
            "segments_s3_info@%s" % INFO_RATE,
            "segments_s3_info",
            {"concurrency": FAULT_CONCURRENCY, "preflight": True},
            info_buckets,
            proxy,
            "aws_endpoint",
            runs[0].defaults,
        )
    )
    run_all_at_once(runs, run_tasks)

    def true_state(bucket, result):
        policy, cors = read_s3_policy(clouds.s3, bucket), read_s3_cors(clouds.s3, bucket)
        truth = (
            ("exists", True),
            ("policy", policy),
            ("cors_rules", cors),
            (
                "s3_access_granted",
                any(statement.get("Sid") == OUR_SID for statement in (policy or {}).get("Statement") or []),
            ),
            ("cors_rule_present", any(rule.get("ID") == OUR_RULE_ID for rule in cors)),
        )
        return [(name, result.get(name), value) for name, value in truth if result.get(name) != value]

    def verdicts_of(fault_run):
        if fault_run.module == "segments_s3_access":
            return {
                bucket: judge_s3_policy(bucket, policies_before[bucket], read_s3_policy(clouds.s3, bucket))
                for bucket in fault_run.buckets
            }
        return {
            bucket: judge_s3_cors(cors_before[bucket], read_s3_cors(clouds.s3, bucket)) for bucket in fault_run.buckets
        }

    judge_and_assert(runs, verdicts_of, true_state, record_figures)


def gcs_fault_buckets(gcs_buckets, names, count):
    """Create count GCS buckets, a third with the customer's CORS entries and IAM bindings."""
    specs = []
    for index, name in enumerate(names.names(count)):
        spec = {"name": name}
        if has_foreign_parts(index):
            spec.update(cors=foreign_gcs_cors(), bindings=foreign_gcs_bindings())
        specs.append(spec)
    return gcs_buckets(specs)


GCS_MODULES = (("segments_gcs_cors", {}), ("segments_gcs_access", {"member": GCS_MEMBER}))


def first_write(request) -> bool:
    """The first CORS or IAM policy write the proxy sees for a bucket."""
    return request.operation in ("PATCH bucket", "PUT iam") and request.occurrence == 0


def test_gcs_modules_under_faults(clouds, fault_proxy, bucket_names, gcs_buckets, run_tasks, record_figures):
    """segments_gcs_cors and segments_gcs_access over 100 buckets at 20% and at 50% faults; and on three buckets whose
    first write lands but answers only after google-cloud-storage's 60 s read timeout, so that the client retries a
    write that already happened, against a precondition that is now stale. Cloud Storage enforces metageneration and
    etag preconditions and the emulator does not, so the proxies do."""
    runs = []
    for rate, seed in FAULT_RUNS:
        names = bucket_names("flt-gcs-%d" % round(rate * 100))
        buckets = gcs_fault_buckets(gcs_buckets, names, BUCKET_COUNT)
        for seed_offset, (module, args) in enumerate(GCS_MODULES):
            proxy = fault_proxy(
                "gcs",
                rate=rate,
                seed=seed + seed_offset,
                kinds=GCS_FAULT_KINDS,
                key_normalizer=names.normalize,
                enforce_preconditions=True,
            )
            runs.append(
                FaultRun(
                    "%s@%s" % (module, rate),
                    module,
                    dict(args, concurrency=FAULT_CONCURRENCY),
                    buckets,
                    proxy,
                    "gcs_endpoint",
                )
            )
    slow_buckets = gcs_fault_buckets(gcs_buckets, bucket_names("slow-gcs"), 3)
    for module, args in GCS_MODULES:
        proxy = fault_proxy(
            "gcs",
            rate=1.0,
            kinds=("slow",),
            only=first_write,
            slow_seconds=GCS_CLIENT_TIMEOUT_SECONDS + 1,
            enforce_preconditions=True,
        )
        runs.append(FaultRun("%s slow-write" % module, module, args, slow_buckets, proxy, "gcs_endpoint"))
    info_names = bucket_names("flt-gcs-info")
    info_buckets = gcs_buckets(
        [gcs_info_spec(name, index) for index, name in enumerate(info_names.names(BUCKET_COUNT))]
    )
    proxy = fault_proxy(
        "gcs",
        rate=INFO_RATE,
        seed=INFO_SEED,
        kinds=GCS_FAULT_KINDS,
        key_normalizer=info_names.normalize,
        enforce_preconditions=True,
    )
    runs.append(
        FaultRun(
            "segments_gcs_info@%s" % INFO_RATE,
            "segments_gcs_info",
            {"concurrency": FAULT_CONCURRENCY, "member": GCS_MEMBER},
            info_buckets,
            proxy,
            "gcs_endpoint",
        )
    )
    all_buckets = list(dict.fromkeys(bucket for fault_run in runs for bucket in fault_run.buckets))
    cors_before = {bucket: clouds.gcs.cors(bucket) for bucket in all_buckets}
    bindings_before = {bucket: clouds.gcs.iam(bucket).get("bindings") or [] for bucket in all_buckets}
    run_all_at_once(runs, run_tasks)

    def true_state(bucket, result):
        cors, bindings = clouds.gcs.cors(bucket), clouds.gcs.iam(bucket).get("bindings") or []
        truth = (
            ("exists", True),
            ("cors", cors),
            ("cors_entry_present", any(is_our_gcs_entry(entry) for entry in cors)),
            (
                "member_has_role",
                any(
                    binding.get("role") == GCS_ROLE
                    and not binding.get("condition")
                    and GCS_MEMBER in binding.get("members", [])
                    for binding in bindings
                ),
            ),
        )
        differences = [(name, result.get(name), value) for name, value in truth if result.get(name) != value]
        reported_bindings = ((result.get("iam_policy") or {}).get("bindings")) or []
        if binding_meaning(reported_bindings) != binding_meaning(bindings):
            differences.append(("iam_policy.bindings", reported_bindings, bindings))
        return differences

    def verdicts_of(fault_run):
        if fault_run.module == "segments_gcs_cors":
            return {
                bucket: judge_gcs_cors(cors_before[bucket], clouds.gcs.cors(bucket)) for bucket in fault_run.buckets
            }
        return {
            bucket: judge_gcs_iam(bindings_before[bucket], clouds.gcs.iam(bucket).get("bindings") or [])
            for bucket in fault_run.buckets
        }

    figures_by_case = judge_and_assert(runs, verdicts_of, true_state, record_figures)
    for fault_run in runs:
        if fault_run.case.endswith("slow-write"):
            # Each bucket's first write was slowed past the client's timeout, unless the bucket failed before it wrote:
            # the emulator, swamped by the other runs at once, can leave a read unanswered past the retry deadline. A
            # failed bucket's before-state is intact (judged above).
            slowed = fault_run.proxy.stats()["faults_by_kind"].get("slow", 0)
            assert slowed >= 1 and slowed + figures_by_case[fault_run.case]["failed"] >= len(slow_buckets), (
                fault_run.proxy.stats()
            )


# ---------------------------------------------------------------- Azure (data plane, Azurite)

# The storage SDK's read timeout in the modules (_azure/client.py READ_TIMEOUT_SECONDS); a held answer must outlast it.
AZURE_CLIENT_TIMEOUT_SECONDS = 60
AZURE_FAULT_KINDS = GCS_FAULT_KINDS
AZURE_RUN_ACCOUNTS = 12
AZURE_SINGLE_FAULT_ACCOUNTS = 3
# Azure's own seeds: with a dozen accounts, FAULT_RUNS' seed 20 happened to pick only two requests at 20%.
AZURE_FAULT_SEEDS = {0.2: 38, 0.5: 50}


def azure_first_write(request) -> bool:
    """The first Set Blob Service Properties the proxy sees for an account."""
    return request.operation == "PUT properties" and request.occurrence == 0


class AzureFaultRun(FaultRun):
    """A FaultRun of an Azure module: the proxy is reached through the connection strings in args, not an endpoint."""

    def start(self, run_tasks):
        self.run = run_tasks([("run", "segments.cloud.%s" % self.module, dict(self.args, name=self.buckets))])
        return self


def test_azure_modules_under_faults(clouds, azurite, azure_accounts, fault_proxy, run_tasks, record_figures):
    """segments_azure_cors on 12 accounts at 20% and at 50% faults (5xx, throttling, resets before the request and after
    it was applied); on three accounts whose first write lands and answers only after the SDK's 60 s read timeout; on
    three whose first write lands and loses its answer (reset); state=absent on 12 accounts holding Segments' rule, at
    50%; and segments_azure_info on 12 accounts at 50%. Two
    thirds of the accounts hold the customer's own rules (spaces and case as people write them) and every account the
    customer's logging and delete retention: those must come back exactly."""
    from helpers_azure import (
        connection_strings,
        foreign_azure_rules,
        judge_azure_cors,
        judge_azure_cors_removed,
        other_properties,
        our_azure_rule,
    )

    def seed(names, with_ours=False):
        for index, account in enumerate(names):
            rules = foreign_azure_rules(str(index)) if index % 3 != 2 else []
            if with_ours and index % 3 == 1:
                rules = rules + [our_azure_rule()]
            azurite.prepare(account, rules)
        return names

    runs, skip = [], 0
    for rate, seed_value in FAULT_RUNS:
        names = seed(azure_accounts("faults", AZURE_RUN_ACCOUNTS, skip))
        skip += AZURE_RUN_ACCOUNTS
        proxy = fault_proxy("azure", rate=rate, seed=AZURE_FAULT_SEEDS.get(rate, seed_value), kinds=AZURE_FAULT_KINDS)
        args = {"concurrency": FAULT_CONCURRENCY, "connection_strings": connection_strings(proxy.url, names)}
        runs.append(AzureFaultRun("segments_azure_cors@%s" % rate, "segments_azure_cors", args, names, proxy, ""))
    for case, kind, held in (
        ("slow-write", "slow", AZURE_CLIENT_TIMEOUT_SECONDS + 1),
        ("lost-answer", "reset_after", 0),
    ):
        names = seed(azure_accounts("faults", AZURE_SINGLE_FAULT_ACCOUNTS, skip))
        skip += AZURE_SINGLE_FAULT_ACCOUNTS
        proxy = fault_proxy("azure", rate=1.0, kinds=(kind,), only=azure_first_write, slow_seconds=held)
        args = {"connection_strings": connection_strings(proxy.url, names)}
        runs.append(AzureFaultRun("segments_azure_cors %s" % case, "segments_azure_cors", args, names, proxy, ""))
    # state=absent at 50%: Segments' rule goes, the customer's stay exactly.
    absent_names = azure_accounts("faults_absent", AZURE_RUN_ACCOUNTS)
    for index, account in enumerate(absent_names):
        azurite.prepare(account, (foreign_azure_rules(str(index)) if index % 3 != 2 else []) + [our_azure_rule()])
    proxy = fault_proxy("azure", rate=0.5, seed=AZURE_FAULT_SEEDS[0.5] + 1, kinds=AZURE_FAULT_KINDS)
    args = {
        "state": "absent",
        "concurrency": FAULT_CONCURRENCY,
        "connection_strings": connection_strings(proxy.url, absent_names),
    }
    runs.append(AzureFaultRun("segments_azure_cors absent@0.5", "segments_azure_cors", args, absent_names, proxy, ""))
    info_names = seed(azure_accounts("faults", AZURE_RUN_ACCOUNTS, skip), with_ours=True)
    proxy = fault_proxy("azure", rate=INFO_RATE, seed=INFO_SEED, kinds=AZURE_FAULT_KINDS)
    runs.append(
        AzureFaultRun(
            "segments_azure_info@%s" % INFO_RATE,
            "segments_azure_info",
            {"concurrency": FAULT_CONCURRENCY, "connection_strings": connection_strings(proxy.url, info_names)},
            info_names,
            proxy,
            "",
        )
    )
    all_accounts = [account for fault_run in runs for account in fault_run.buckets]
    before = {account: azurite.properties(account) for account in all_accounts}
    run_all_at_once(runs, run_tasks)
    after = {account: azurite.properties(account) for account in all_accounts}

    def true_state(account, result):
        rules = after[account]["cors"]
        truth = (("exists", True), ("cors", rules), ("cors_rule_present", any(map(is_our_azure, rules))))
        return [(name, result.get(name), value) for name, value in truth if result.get(name) != value]

    def is_our_azure(rule):
        return judge_azure_cors([], [rule])[0] == "onboarded"

    def verdicts_of(fault_run):
        verdicts = {}
        judge = judge_azure_cors_removed if fault_run.args.get("state") == "absent" else judge_azure_cors
        for account in fault_run.buckets:
            verdict, foreign_intact = judge(before[account]["cors"], after[account]["cors"])
            # Logging, metrics and retention are the customer's too: a CORS write that changed them lost them.
            intact = foreign_intact and other_properties(before[account]) == other_properties(after[account])
            verdicts[account] = (verdict, intact)
        return verdicts

    figures_by_case = judge_and_assert(runs, verdicts_of, true_state, record_figures)
    for fault_run in runs:
        if fault_run.case.endswith(("slow-write", "lost-answer")):
            stats = fault_run.proxy.stats()
            assert stats["faults"] == len(fault_run.buckets), stats
            # The write landed each time: the module must find that out by reading back, and report it onboarded.
            assert figures_by_case[fault_run.case]["ok"] == len(fault_run.buckets), figures_by_case[fault_run.case]
