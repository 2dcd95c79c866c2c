# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where the time of an onboard run goes, from a py-spy raw profile taken with --subprocesses --idle --threads.

fleet.py --profile records one; this reads it and answers, per module: the wall time of its main thread split into
start-up (interpreter, AnsiballZ, imports, options, clients), the per-bucket pool and the exit, and how the worker
threads' time splits over the per-bucket steps (region discovery, each read and write, client creation); and for the
controller, how much of the run its own processes were busy. Runnable alone:
    python tests/benchmarks/profile_summary.py RAW_FILE [SAMPLES_PER_SECOND]
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict

_ANSIBALLZ_RE = re.compile(r"AnsiballZ_(\w+)\.py")
_FRAME_RE = re.compile(r"^(?P<function>.+) \((?P<file>[^():]+)(?::\d+)?\)$")
# A leaf frame in one of these means the thread was waiting (I/O, a lock, a child process), not computing.
WAITING_LEAVES = frozenset(
    (
        "sleep",
        "select",
        "poll",
        "wait",
        "_wait_for_tstate_lock",
        "acquire",
        "recv_into",
        "readinto",
        "recv",
        "read",
        "readline",
        "accept",
        "waitpid",
        "_try_wait",
        "_communicate",
        "communicate",
        "epoll.poll",
        "select.select",
        "Condition.wait",
        "Event.wait",
        "_recv_bytes",
        "_recv",
        "get",
        "join",
        "sock_recv",
        "connect",
        "GetAddrInfoPatch.__call__",
        "create_connection",
        "_worker",
        # their queue get and time.sleep are C code, so py-spy shows these Python frames as the leaves
        "_wait_on_pending_results",
    )
)
# The steps of one bucket, by the function that process_bucket calls: what the worker threads spend their time on.
BUCKET_STEPS = (
    "bucket_region",
    "S3Clients.client",
    "read_policy",
    "read_cors",
    "read_encryption",
    "read_object_ownership",
    "read_request_payer",
    "read_public_access_block",
    "write_policy",
    "write_cors",
    "converge",
    "read_bucket",
    "read_iam_policy",
    "merge_cors",
    "merge_iam_policy",
    "KmsKeys.caller_account",
    "access_warnings",
    "readiness",
)

STEP_NAMES = frozenset(name.rsplit(".", maxsplit=1)[-1] for name in BUCKET_STEPS)


def parse_frame(frame):
    match = _FRAME_RE.match(frame)
    return (match.group("function"), match.group("file")) if match else (frame, "")


def classify_process(process_frames):
    """'module:NAME' for a module process, 'controller' for ansible-playbook's first process, 'controller-worker' for
    its forks."""
    last = process_frames[-1]
    match = _ANSIBALLZ_RE.search(last)
    if match:
        return "module:" + match.group(1)
    if "ansible-playbook" in last:
        return "controller" if len(process_frames) == 1 else "controller-worker"
    return "other"


def summarise(raw_path, rate=50):
    """The summary dict of one py-spy raw profile recorded at ``rate`` samples per second."""
    main_phase = defaultdict(Counter)  # module -> phase -> samples of the main thread
    worker_step = defaultdict(Counter)  # module -> step -> samples of the worker threads
    worker_busy = Counter()  # module -> worker samples that were computing, not waiting
    invocations = defaultdict(set)  # module -> pids
    controller = Counter()  # (process kind, busy|waiting) -> samples
    controller_busy_functions = Counter()  # function frames under the controller's busy samples (inclusive)
    with open(raw_path, encoding="utf-8", errors="replace") as raw_file:
        for line in raw_file:
            stack, _space, count_text = line.rstrip("\n").rpartition(" ")
            if not count_text.isdigit():
                continue
            samples = int(count_text)
            frames = stack.split(";")
            process_frames = [frame for frame in frames if frame.startswith("process ")]
            thread_frames = [frame for frame in frames if frame.startswith("thread ")]
            code_frames = [parse_frame(frame) for frame in frames if not frame.startswith(("process ", "thread "))]
            if not process_frames or not code_frames:
                continue
            kind = classify_process(process_frames)
            thread_name = thread_frames[0].split(": ", 1)[-1] if thread_frames else ""
            functions = [function for function, _file in code_frames]
            waiting = functions[-1].rsplit(".", 1)[-1] in WAITING_LEAVES or functions[-1] in WAITING_LEAVES
            if kind.startswith("module:"):
                module = kind.split(":", 1)[1]
                invocations[module].add(process_frames[-1].split(":", 1)[0])
                if thread_name.startswith("segments-bucket"):
                    if "_process_one" in functions:
                        step = next(
                            (
                                function
                                for function in functions[functions.index("_process_one") + 1 :]
                                if function.rsplit(".", maxsplit=1)[-1] in STEP_NAMES
                            ),
                            "(other per-bucket work)",
                        )
                    else:
                        step = "(pool thread idle: no bucket left)"
                    worker_step[module][step] += samples
                    if not waiting:
                        worker_busy[module] += samples
                elif thread_name == "MainThread" or not thread_name.startswith("thread ("):
                    if any(function.startswith("run_per_bucket") for function in functions):
                        phase = "per-bucket pool"
                    elif any("exit_json" in function or "fail_json" in function for function in functions):
                        phase = "exit (results to JSON)"
                    elif any(function.endswith(".client") or "create_client" in function for function in functions):
                        phase = "start-up: clients"
                    elif any("__init__" in function and "Module" in function for function in functions):
                        phase = "start-up: options"
                    else:
                        phase = "start-up: interpreter, AnsiballZ, imports"
                    main_phase[module][phase] += samples
            elif kind.startswith("controller"):
                controller[(kind, "waiting" if waiting else "busy")] += samples
                if not waiting:
                    for function in set(functions):
                        controller_busy_functions[function] += samples
    modules = {}
    for module, phases in main_phase.items():
        runs = max(1, len(invocations[module]))
        worker_total = sum(worker_step[module].values()) or 1
        modules[module] = dict(
            invocations=runs,
            seconds_per_invocation=round(sum(phases.values()) / rate / runs, 2),
            main_thread_seconds_per_invocation={
                phase: round(samples / rate / runs, 2) for phase, samples in phases.most_common()
            },
            worker_time_share={
                step: round(samples / worker_total, 3) for step, samples in worker_step[module].most_common()
            },
            worker_busy_share=round(worker_busy[module] / worker_total, 3),
        )
    controller_summary = {
        "%s %s seconds" % key: round(samples / rate, 1) for key, samples in sorted(controller.items())
    }
    controller_summary["busiest functions (inclusive seconds)"] = {
        function: round(samples / rate, 1)
        for function, samples in controller_busy_functions.most_common(40)
        if not function.startswith(("<module>", "main", "Thread.", "_bootstrap", "run ("))
    }
    return dict(rate=rate, modules=modules, controller=controller_summary)


if __name__ == "__main__":
    print(json.dumps(summarise(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50), indent=1))
