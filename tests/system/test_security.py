# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Issue 7, part 5: security checks against the real LocalStack and GCS emulator.

- The bucket-policy statement (and the key-policy statement, and the GCS binding) grants exactly the given actions to
  exactly the given principal on exactly the stated resources, read back from the servers.
- ``*`` as principal and wildcard actions are refused unless the option that says so is set, and each option unlocks
  only its own wildcard; the same for the origin ``*`` of S3 CORS. GCS public members and origins are always refused.
- Every secret option is no_log (read from the modules' own argument specs), and a canary secret given to the modules
  and the role never appears in the output of a run at -vvv, on success or on failure.
- The CORS rule allows no method beyond those given: read back, and by a real preflight to LocalStack.
- docs/permissions.md lists exactly the permissions the collection uses. LocalStack community and the GCS emulator
  enforce no IAM, so the proof is done by the fault proxy in front of them: it logs each API operation the modules
  call (named by the permission AWS or Cloud Storage checks for it) and, as an allow-list, denies every operation whose
  permission is not documented. The role's onboarding and the rollback, then the audit, run through it: they must
  succeed with the documented permissions alone, and the permissions they used must equal the documented ones.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from bucket_state import GCS_MEMBER, GCS_ROLE, OUR_RULE_ID, OUR_SID, SEGMENTS_PRINCIPAL, read_s3_cors, read_s3_policy
from helpers_clouds import create_bucket, delete_bucket, kms_client, normalise_space, run_playbook
from helpers_proxy import permission_of

COLLECTION_DIR = Path(__file__).resolve().parents[2]
PERMISSIONS_DOC = COLLECTION_DIR / "docs" / "permissions.md"
MODULES = sorted(path.stem for path in (COLLECTION_DIR / "plugins" / "modules").glob("*.py"))
# Option names that hold a secret; every such option must be no_log.
SECRET_OPTION = re.compile(
    r"secret|token|password|passphrase|private_key|contents|credential|account_key|connection_string|sas",
    re.IGNORECASE,
)
KMS_SID = "segments-kms-decrypt"
NO_LOG_PLACEHOLDER = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.fixture
def buckets(clouds, request):
    """Factory: buckets(kind, ...) makes one bucket per kind (helpers_clouds.create_bucket) with a unique name and
    returns their descriptions ({"cloud", "name", "kms_key"}); all are removed when the test ends."""

    def make(*kinds):
        token = secrets.token_hex(4)
        made = [create_bucket(clouds, kind, "sec-%s-%s" % (token, kind.replace("_", "-"))) for kind in kinds]
        request.addfinalizer(lambda: [delete_bucket(clouds, bucket) for bucket in made])
        return made

    return make


def statements_of(policy) -> list:
    statements = (policy or {}).get("Statement") or []
    return statements if isinstance(statements, list) else [statements]


def as_set(value) -> set:
    return set(value if isinstance(value, list) else [value])


# ---------------------------------------------------------------- the statement grants no more than asked


@pytest.mark.parametrize(
    "actions, prefixes",
    [
        (["s3:GetObject"], None),
        (["s3:GetObject", "s3:GetObjectVersion"], ["images/", "/labels/"]),
    ],
)
def test_statement_grants_exactly_the_actions_on_the_stated_resources(actions, prefixes, clouds, buckets, run_module):
    bucket = buckets("plain")[0]["name"]
    policy_before = read_s3_policy(clouds.s3, bucket)
    principal = "arn:aws:iam::123456789012:role/segments-reader"
    args = {"name": [bucket], "principal": principal, "actions": actions}
    if prefixes:
        args["prefixes"] = prefixes
    result, run = run_module("segments.cloud.segments_s3_access", args)
    run.assert_no_traceback()
    assert not result.get("failed"), result.get("msg")

    policy = read_s3_policy(clouds.s3, bucket)
    ours = [statement for statement in statements_of(policy) if statement.get("Sid") == OUR_SID]
    assert len(ours) == 1, policy
    statement = ours[0]
    expected_resources = (
        {"arn:aws:s3:::%s/%s*" % (bucket, prefix.lstrip("/")) for prefix in prefixes}
        if prefixes
        else {"arn:aws:s3:::%s/*" % bucket}
    )
    assert set(statement) == {"Sid", "Effect", "Principal", "Action", "Resource"}, (
        "no NotAction, NotResource, NotPrincipal or Condition"
    )
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": principal}
    assert as_set(statement["Action"]) == set(actions)
    assert as_set(statement["Resource"]) == expected_resources
    # Nothing else was granted: every other statement is exactly as it was, in its place.
    assert [other for other in statements_of(policy) if other.get("Sid") != OUR_SID] == statements_of(policy_before)


def test_key_policy_statement_grants_only_decrypt_through_s3_in_the_region(clouds, buckets, run_module):
    bucket = buckets("kms")[0]
    key_policy_before = json.loads(
        kms_client(clouds).get_key_policy(KeyId=bucket["kms_key"], PolicyName="default")["Policy"]
    )
    result, run = run_module("segments.cloud.segments_s3_access", {"name": [bucket["name"]], "kms": True})
    run.assert_no_traceback()
    assert not result.get("failed"), result.get("msg")

    key_policy = json.loads(kms_client(clouds).get_key_policy(KeyId=bucket["kms_key"], PolicyName="default")["Policy"])
    ours = [statement for statement in statements_of(key_policy) if statement.get("Sid") == KMS_SID]
    assert ours == [
        {
            "Sid": KMS_SID,
            "Effect": "Allow",
            "Principal": {"AWS": SEGMENTS_PRINCIPAL},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.%s.amazonaws.com" % clouds.region}},
        }
    ]
    assert [other for other in statements_of(key_policy) if other.get("Sid") != KMS_SID] == statements_of(
        key_policy_before
    )


def test_gcs_binding_grants_only_the_role_to_the_member(clouds, buckets, run_module):
    bucket = buckets("gplain")[0]["name"]
    bindings_before = clouds.gcs.iam(bucket).get("bindings") or []
    result, run = run_module("segments.cloud.segments_gcs_access", {"name": [bucket], "member": GCS_MEMBER})
    run.assert_no_traceback()
    assert not result.get("failed"), result.get("msg")

    bindings = clouds.gcs.iam(bucket).get("bindings") or []
    holding = [binding for binding in bindings if GCS_MEMBER in (binding.get("members") or [])]
    assert len(holding) == 1 and holding[0]["role"] == GCS_ROLE and not holding[0].get("condition"), bindings

    def meaning(all_bindings):
        return sorted(
            json.dumps(
                [binding["role"], binding.get("condition"), sorted(set(binding.get("members") or []) - {GCS_MEMBER})]
            )
            for binding in all_bindings
            if set(binding.get("members") or []) - {GCS_MEMBER}
        )

    assert meaning(bindings) == meaning(bindings_before), "another binding changed"


# ---------------------------------------------------------------- wildcards only with the option that says so

WILDCARD_CASES = [
    # (case id, module, args, allowed)
    ("principal-star", "segments_s3_access", {"principal": "*"}, False),
    (
        "principal-star-with-the-wrong-option",
        "segments_s3_access",
        {"principal": "*", "allow_wildcard_actions": True},
        False,
    ),
    ("principal-star-allowed", "segments_s3_access", {"principal": "*", "allow_public_principal": True}, True),
    ("action-star", "segments_s3_access", {"actions": ["s3:*"]}, False),
    ("action-prefix-wildcard", "segments_s3_access", {"actions": ["s3:Get*"]}, False),
    ("action-any-service", "segments_s3_access", {"actions": ["*"]}, False),
    (
        "action-wildcard-with-the-wrong-option",
        "segments_s3_access",
        {"actions": ["s3:Get*"], "allow_public_principal": True},
        False,
    ),
    ("action-wildcard-allowed", "segments_s3_access", {"actions": ["s3:Get*"], "allow_wildcard_actions": True}, True),
    ("origin-star", "segments_s3_cors", {"origins": ["*"]}, False),
    ("origin-star-allowed", "segments_s3_cors", {"origins": ["*"], "allow_any_origin": True}, True),
    ("gcs-all-users", "segments_gcs_access", {"member": "allUsers"}, False),
    ("gcs-all-authenticated-users", "segments_gcs_access", {"member": "allAuthenticatedUsers"}, False),
    ("gcs-origin-star", "segments_gcs_cors", {"origins": ["*"]}, False),
]


def test_wildcards_are_refused_unless_the_option_that_says_so_is_set(clouds, buckets, run_tasks):
    """All cases in one playbook: each refused one fails and writes nothing; each allowed one writes exactly the
    wildcard."""
    s3_made = {
        case_id: buckets("plain")[0]
        for case_id, module, _args, _allowed in WILDCARD_CASES
        if module.startswith("segments_s3")
    }
    gcs_made = {
        case_id: buckets("gplain")[0]
        for case_id, module, _args, _allowed in WILDCARD_CASES
        if module.startswith("segments_gcs")
    }
    made = dict(s3_made, **gcs_made)
    policies_before = {
        case_id: (read_s3_policy(clouds.s3, bucket["name"]), read_s3_cors(clouds.s3, bucket["name"]))
        for case_id, bucket in s3_made.items()
    }
    gcs_before = {
        case_id: (clouds.gcs.cors(bucket["name"]), clouds.gcs.iam(bucket["name"]).get("bindings"))
        for case_id, bucket in gcs_made.items()
    }
    tasks = []
    for case_id, module, args, _allowed in WILDCARD_CASES:
        args = dict(args, name=[made[case_id]["name"]])
        if module == "segments_gcs_access":
            args.setdefault("member", GCS_MEMBER)
        tasks.append((case_id.replace("-", "_"), "segments.cloud.%s" % module, args))
    run = run_tasks(tasks)
    run.assert_no_traceback()

    problems = []
    for case_id, module, args, allowed in WILDCARD_CASES:
        result = run.results[case_id.replace("-", "_")]
        bucket = made[case_id]["name"]
        if not allowed:
            if not result.get("failed"):
                problems.append("%s: not refused" % case_id)
            elif (
                case_id in s3_made
                and (read_s3_policy(clouds.s3, bucket), read_s3_cors(clouds.s3, bucket)) != policies_before[case_id]
            ):
                problems.append("%s: refused but written" % case_id)
            elif (
                case_id in gcs_made
                and (clouds.gcs.cors(bucket), clouds.gcs.iam(bucket).get("bindings")) != gcs_before[case_id]
            ):
                problems.append("%s: refused but written" % case_id)
            continue
        if result.get("failed"):
            problems.append("%s: refused although allowed: %s" % (case_id, result.get("msg")))
        elif module == "segments_s3_access":
            ours = [
                statement
                for statement in statements_of(read_s3_policy(clouds.s3, bucket))
                if statement.get("Sid") == OUR_SID
            ]
            wanted_principal = args.get("principal")
            if wanted_principal and ours[0]["Principal"] not in ("*", {"AWS": "*"}, {"AWS": ["*"]}):
                problems.append("%s: principal written as %r" % (case_id, ours[0]["Principal"]))
            if args.get("actions") and as_set(ours[0]["Action"]) != set(args["actions"]):
                problems.append("%s: actions written as %r" % (case_id, ours[0]["Action"]))
        elif module == "segments_s3_cors":
            ours = [rule for rule in read_s3_cors(clouds.s3, bucket) if rule.get("ID") == OUR_RULE_ID]
            if ours[0]["AllowedOrigins"] != ["*"]:
                problems.append("%s: origins written as %r" % (case_id, ours[0]["AllowedOrigins"]))
    assert not problems, problems


def test_the_allow_options_are_named_for_what_they_allow():
    """The only options that unlock a wildcard are the three whose names say so; they are booleans, off by default."""
    unlocking = {}
    for module in MODULES:
        for option, spec in module_argument_spec(module).items():
            if option.startswith("allow_"):
                unlocking.setdefault(module, {})[option] = (spec.get("type"), spec.get("default"))
    assert unlocking == {
        "segments_s3_access": {"allow_public_principal": ("bool", False), "allow_wildcard_actions": ("bool", False)},
        "segments_s3_cors": {"allow_any_origin": ("bool", False)},
    }


# ---------------------------------------------------------------- secrets


_SPEC_DUMPER = r"""
import json, runpy, sys
from ansible.module_utils import basic

def dump_spec(self, argument_spec, *args, **kwargs):
    sys.stdout.write(json.dumps(argument_spec, default=repr))
    raise SystemExit(0)

basic.AnsibleModule.__init__ = dump_spec
sys.argv = [sys.argv[0]]
runpy.run_module("ansible_collections.segments.cloud.plugins.modules." + MODULE, run_name="__main__")
"""

_SPECS = {}


def module_argument_spec(module: str) -> dict:
    """The argument spec a module really builds (amazon.aws's common options included), from its own main()."""
    if module not in _SPECS:
        environment = dict(os.environ)
        if COLLECTION_DIR.parents[1].name == "ansible_collections":
            environment["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(COLLECTION_DIR.parents[2]), environment.get("PYTHONPATH")])
            )
        completed = subprocess.run(
            [sys.executable, "-c", _SPEC_DUMPER.replace("MODULE", repr(module))],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=str(COLLECTION_DIR),
            env=environment,
        )
        assert completed.returncode == 0 and completed.stdout, "could not read the argument spec of %s: %s" % (
            module,
            completed.stderr[-2000:],
        )
        _SPECS[module] = json.loads(completed.stdout)
    return _SPECS[module]


def _options(spec: dict, prefix: str = ""):
    for option, details in spec.items():
        yield prefix + option, details
        for alias in details.get("aliases") or []:
            yield prefix + alias, details
        if details.get("options"):
            yield from _options(details["options"], prefix + option + ".")


@pytest.mark.parametrize("module", MODULES)
def test_every_secret_option_is_no_log(module):
    secret_options = {
        option: bool(details.get("no_log"))
        for option, details in _options(module_argument_spec(module))
        if SECRET_OPTION.search(option)
    }
    assert all(secret_options.values()), "secret options without no_log: %s" % sorted(
        option for option, no_log in secret_options.items() if not no_log
    )


def test_the_known_secret_options_exist_and_are_no_log():
    """The check above must not pass by finding nothing: the cloud secrets are there, and no_log."""
    aws_spec, gcs_spec = module_argument_spec("segments_s3_access"), module_argument_spec("segments_gcs_access")
    assert aws_spec["secret_key"]["no_log"] and aws_spec["session_token"]["no_log"]
    assert gcs_spec["access_token"]["no_log"] and gcs_spec["service_account_contents"]["no_log"]


def test_the_azure_secret_options_are_no_log():
    """secret, the per-account connection strings and account keys (a SAS travels in a connection string)."""
    for module in ("segments_azure_cors", "segments_azure_info", "segments_azure_access"):
        spec = module_argument_spec(module)
        assert spec["secret"]["no_log"] and spec["connection_strings"]["no_log"] and spec["account_keys"]["no_log"]


def canary(label: str) -> str:
    """A unique string that can only reach the output by leaking."""
    return "CANARY%s%s" % (label.upper(), secrets.token_hex(8))


def service_account_json(private_key_id: str, token_uri: str) -> str:
    """A well-formed service-account key (a fresh RSA key) whose private_key_id is the canary; tokens come from
    token_uri."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "segments-local",
            "private_key_id": private_key_id,
            "private_key": pem,
            "client_email": "onboarding@segments-local.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": token_uri,
        }
    )


def assert_not_shown(secret_values, output: str) -> None:
    leaked = [value for value in secret_values if value in output]
    assert not leaked, "secrets in the -vvv output: %s" % leaked


def test_aws_secrets_never_appear_at_vvv(clouds, buckets, run_tasks, monkeypatch):
    """secret_key and session_token as canaries, by option and by environment, on a run that works and one that
    fails."""
    bucket = buckets("plain")[0]["name"]
    secret_key, session_token, environment_secret = canary("secret"), canary("token"), canary("envsecret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", environment_secret)
    run = run_tasks(
        [
            ("aws_access", "segments.cloud.segments_s3_access", {"name": [bucket]}),
            ("aws_cors", "segments.cloud.segments_s3_cors", {"name": [bucket]}),
            ("aws_info", "segments.cloud.segments_s3_info", {"name": [bucket]}),
            ("aws_missing", "segments.cloud.segments_s3_access", {"name": [bucket + "-missing"]}),
            ("aws_refused", "segments.cloud.segments_s3_access", {"name": [bucket], "principal": "*"}),
            (
                "aws_from_environment",
                "segments.cloud.segments_s3_info",
                {"name": [bucket], "access_key": None, "secret_key": None, "session_token": None},
            ),
        ],
        aws_defaults={"secret_key": secret_key, "session_token": session_token},
        extra_args=("-vvv",),
    )
    run.assert_no_traceback()
    assert not run.results["aws_access"].get("failed") and not run.results["aws_info"].get("failed"), run.results[
        "aws_access"
    ].get("msg")
    assert not run.results["aws_from_environment"].get("failed"), run.results["aws_from_environment"].get("msg")
    assert run.results["aws_missing"].get("failed") and run.results["aws_refused"].get("failed")
    assert NO_LOG_PLACEHOLDER in run.stdout, "-vvv shows the module arguments, masked"
    assert_not_shown([secret_key, session_token, environment_secret], run.stdout + run.stderr)


def test_gcs_secrets_never_appear_at_vvv(clouds, buckets, run_tasks, monkeypatch):
    """access_token (by option and by environment) and service_account_contents as canaries, working and failing."""
    bucket = buckets("gplain")[0]["name"]
    access_token, environment_token, key_id = canary("accesstoken"), canary("envtoken"), canary("keyid")
    monkeypatch.setenv("GCP_ACCESS_TOKEN", environment_token)
    token = {"auth_kind": "accesstoken", "access_token": access_token}
    contents = {
        "auth_kind": "serviceaccount",
        "service_account_contents": service_account_json(key_id, "http://127.0.0.1:9/token"),
    }
    broken_contents = {
        "auth_kind": "serviceaccount",
        "service_account_contents": json.dumps({"type": "service_account", "private_key": key_id}),
    }
    run = run_tasks(
        [
            ("gcs_token", "segments.cloud.segments_gcs_info", dict(token, name=[bucket])),
            ("gcs_token_access", "segments.cloud.segments_gcs_access", dict(token, name=[bucket], member=GCS_MEMBER)),
            (
                "gcs_token_from_environment",
                "segments.cloud.segments_gcs_cors",
                {"name": [bucket], "auth_kind": "accesstoken"},
            ),
            ("gcs_contents", "segments.cloud.segments_gcs_info", dict(contents, name=[bucket])),
            ("gcs_broken_contents", "segments.cloud.segments_gcs_info", dict(broken_contents, name=[bucket])),
        ],
        extra_args=("-vvv",),
    )
    run.assert_no_traceback()
    assert not run.results["gcs_token"].get("failed") and not run.results["gcs_token_access"].get("failed"), (
        run.results["gcs_token"].get("msg")
    )
    assert not run.results["gcs_token_from_environment"].get("failed"), run.results["gcs_token_from_environment"].get(
        "msg"
    )
    assert run.results["gcs_contents"].get("failed") and run.results["gcs_broken_contents"].get("failed")
    assert_not_shown([access_token, environment_token, key_id], run.stdout + run.stderr)


def test_role_secrets_never_appear_at_vvv(clouds, buckets, tmp_path):
    bucket = buckets("plain")[0]["name"]
    secret_key, session_token = canary("rolesecret"), canary("roletoken")
    run = run_playbook(
        "segments.cloud.onboard",
        {
            "segments_s3_buckets": [bucket],
            "segments_backup_dir": str(tmp_path / "backups"),
            "segments_aws_endpoint_url": clouds.aws_endpoint,
            "segments_aws_access_key": clouds.access_key,
            "segments_aws_secret_key": secret_key,
            "segments_aws_session_token": session_token,
        },
        tmp_path / "play",
        extra_args=("-vvv",),
    )
    assert not run.tracebacks(), run.output[-3000:]
    assert run.returncode == 0, run.output[-3000:]
    assert_not_shown([secret_key, session_token], run.output)
    # The backups and the report the role wrote hold no secret either.
    written = "".join(path.read_text() for path in (tmp_path / "backups").rglob("*.json"))
    assert written and not [value for value in (secret_key, session_token) if value in written]


# ---------------------------------------------------------------- CORS allows no more methods than given


def preflight(clouds, bucket: str, origin: str, method: str) -> int:
    """The status LocalStack answers a browser's CORS preflight with (200 allowed, 403 not)."""
    request = urllib.request.Request(
        "%s/%s/any-object.jpg" % (clouds.aws_endpoint, bucket),
        method="OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": method},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("methods", [["GET"], ["get", "HEAD"]])
def test_s3_cors_rule_allows_no_method_beyond_those_given(methods, clouds, buckets, run_module):
    bucket = buckets("plain")[0]["name"]
    # A hand-made Segments rule that also allows HEAD: the module adopts it, and it must then allow only the given
    # methods.
    rules_before = read_s3_cors(clouds.s3, bucket)
    clouds.s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": rules_before + [{"AllowedOrigins": ["https://segments.ai"], "AllowedMethods": ["GET", "HEAD"]}]
        },
    )
    result, run = run_module("segments.cloud.segments_s3_cors", {"name": [bucket], "methods": methods})
    run.assert_no_traceback()
    assert not result.get("failed"), result.get("msg")

    rules = read_s3_cors(clouds.s3, bucket)
    ours = [rule for rule in rules if rule.get("ID") == OUR_RULE_ID]
    assert len(ours) == 1 and sorted(ours[0]["AllowedMethods"]) == sorted(method.upper() for method in methods), rules
    segments_rules = [
        rule for rule in rules if set(rule.get("AllowedOrigins", [])) & {"https://segments.ai", "https://*.segments.ai"}
    ]
    assert segments_rules == ours, "the adopted rule is gone, no other rule names a Segments origin"
    for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        expected = 200 if method in {allowed.upper() for allowed in methods} else 403
        assert preflight(clouds, bucket, "https://app.segments.ai", method) == expected, method


@pytest.mark.parametrize("methods", [["GET"], ["get", "HEAD"]])
def test_gcs_cors_entry_allows_no_method_beyond_those_given(methods, clouds, buckets, run_module):
    bucket = buckets("gplain")[0]["name"]
    result, run = run_module("segments.cloud.segments_gcs_cors", {"name": [bucket], "methods": methods})
    run.assert_no_traceback()
    assert not result.get("failed"), result.get("msg")
    ours = [
        entry
        for entry in clouds.gcs.cors(bucket)
        if any("segments.ai" in origin for origin in entry.get("origin") or [])
    ]
    assert len(ours) == 1 and sorted(ours[0]["method"]) == sorted(method.upper() for method in methods), ours


# ---------------------------------------------------------------- the documented permissions are exactly the ones used


def documented_permissions() -> dict:
    """docs/permissions.md's table: {"all", "audit", "audit_optional", "onboard"} as sets of permissions, and the
    permission lists of its AWS policies and GCP roles ({"aws_audit_policy", "aws_onboard_policy", "gcp_onboard_role",
    "gcp_audit_role"})."""
    text = PERMISSIONS_DOC.read_text()
    table = {"all": set(), "audit": set(), "audit_optional": set(), "onboard": set()}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            permission = cells[0].strip("`")
            if permission.startswith("Microsoft."):
                # Azure's table: ARM has no local server, so no proxy here sees these calls; the ARM fake's tests
                # (tests/unit/plugins/module_utils/_azure/test_azure_arm_fake.py) cover them.
                continue
            table["all"].add(permission)
            if "✓" in cells[2]:
                table["audit"].add(permission)
            elif "optional" in cells[2]:
                table["audit_optional"].add(permission)
            if "✓" in cells[3]:
                table["onboard"].add(permission)
    policies = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]
    actions = [
        {action for statement in policy["Statement"] for action in as_set(statement["Action"])} for policy in policies
    ]
    table["aws_audit_policy"], table["aws_onboard_policy"] = actions[0], actions[1]
    table["gcp_onboard_role"] = set(re.findall(r"^\s+- (storage\.[\w.]+)$", text, re.MULTILINE))
    table["gcp_project_role"] = set(re.findall(r"^\s+- (iam\.roles\.\w+)$", text, re.MULTILINE))
    table["gcp_audit_role"] = set(re.search(r"--permissions=([\w.,]+)", text).group(1).split(","))
    return table


def test_the_documented_policies_are_copies_of_the_table():
    documented = documented_permissions()
    project = {permission for permission in documented["all"] if permission.startswith("iam.roles.")}
    aws = {permission for permission in documented["all"] if not permission.startswith("storage.")} - project
    gcs = documented["all"] - aws - project
    assert documented["gcp_project_role"] == documented["onboard"] & project
    assert documented["aws_audit_policy"] == (documented["audit"] | documented["audit_optional"]) & aws
    assert (
        documented["aws_onboard_policy"]
        == (documented["onboard"] - documented["audit"] - documented["audit_optional"]) & aws
    )
    assert documented["gcp_onboard_role"] == documented["onboard"] & gcs
    assert documented["gcp_audit_role"] == documented["audit"] & gcs


def allow_only(proxy, cloud: str, permissions: set) -> None:
    """Make the proxy a caller holding exactly these permissions: every other governed request is answered
    AccessDenied."""
    proxy.deny_all(only=lambda request: permission_of(cloud, request.operation) not in permissions | {None})


def permissions_used(proxy, cloud: str) -> set:
    """The permissions of every request the proxy saw, allowed or denied (a denied request was still a call the run
    made)."""
    return {permission_of(cloud, event["operation"]) for event in proxy.events()} - {None}


def onboard_vars(s3_buckets, gcs_buckets, proxies, workdir: Path) -> dict:
    return {
        "segments_s3_buckets": s3_buckets,
        "segments_gcs_buckets": gcs_buckets,
        "segments_gcs_member": GCS_MEMBER,
        "segments_backup_dir": str(workdir / "backups"),
        "segments_preflight": True,
        "segments_aws_endpoint_url": proxies["s3"].url,
        "segments_gcs_api_endpoint": proxies["gcs"].url,
    }


def test_onboarding_and_rollback_work_with_exactly_the_documented_permissions(clouds, buckets, fault_proxy, tmp_path):
    """The role onboards an S3 bucket with a policy, one with SSE-KMS (kms: true) and one with nothing, and a GCS
    bucket, then the rollback playbook restores the backups (deleting the bucket policy and CORS the bare bucket did not
    have), all through a proxy that allows only the permissions docs/permissions.md documents for onboarding. Both must
    succeed, and the permissions the calls needed must be exactly the documented ones, less the optional
    s3:ListBucket."""
    documented = documented_permissions()
    plain, kms, bare, gcs_bucket = buckets("plain", "kms", "bare", "gplain")
    proxies = {"s3": fault_proxy("s3"), "gcs": fault_proxy("gcs")}
    # The iam.roles.* permissions are the IAM roles fake's business, not the storage proxies' (see permissions.md).
    allowed = documented["onboard"] - documented["audit_optional"] - documented["gcp_project_role"]
    for cloud, proxy in proxies.items():
        allow_only(proxy, cloud, allowed)

    onboard = run_playbook(
        "segments.cloud.onboard",
        onboard_vars(
            [plain["name"], {"name": kms["name"], "kms": True}, bare["name"]], [gcs_bucket["name"]], proxies, tmp_path
        ),
        tmp_path / "onboard",
        aws_endpoint=proxies["s3"].url,
        gcs_endpoint=proxies["gcs"].url,
    )
    assert not onboard.tracebacks() and onboard.returncode == 0, onboard.output[-4000:]
    assert "4 bucket(s): 4 changed, 0 failed" in normalise_space(onboard.stdout), onboard.stdout[-3000:]
    run_folders = [path for path in (tmp_path / "backups").iterdir() if path.is_dir()]
    rollback = run_playbook(
        "segments.cloud.rollback",
        {
            "segments_backup_run": str(run_folders[0]),
            "segments_gcs_member": GCS_MEMBER,
            "segments_aws_endpoint_url": proxies["s3"].url,
            "segments_gcs_api_endpoint": proxies["gcs"].url,
        },
        tmp_path / "rollback",
        aws_endpoint=proxies["s3"].url,
        gcs_endpoint=proxies["gcs"].url,
    )
    assert not rollback.tracebacks() and rollback.returncode == 0, rollback.output[-4000:]
    assert read_s3_policy(clouds.s3, bare["name"]) is None and read_s3_cors(clouds.s3, bare["name"]) == []

    used = permissions_used(proxies["s3"], "s3") | permissions_used(proxies["gcs"], "gcs")
    denied = sorted({event["operation"] for proxy in proxies.values() for event in proxy.events() if event["fault"]})
    assert not denied, "calls outside the documented permissions: %s" % denied
    assert not [permission for permission in used if permission.startswith("unknown")], used
    assert used == allowed, "used but not documented: %s; documented but never used: %s" % (
        sorted(used - allowed),
        sorted(allowed - used),
    )


def test_the_audit_works_with_exactly_the_documented_audit_permissions(clouds, buckets, fault_proxy, tmp_path):
    documented = documented_permissions()
    plain, kms, gcs_bucket = buckets("ours", "kms", "gours")
    proxies = {"s3": fault_proxy("s3"), "gcs": fault_proxy("gcs")}
    for cloud, proxy in proxies.items():
        allow_only(proxy, cloud, documented["audit"])
    audit = run_playbook(
        "segments.cloud.audit",
        onboard_vars([plain["name"], kms["name"]], [gcs_bucket["name"]], proxies, tmp_path),
        tmp_path / "audit",
        aws_endpoint=proxies["s3"].url,
        gcs_endpoint=proxies["gcs"].url,
    )
    assert not audit.tracebacks() and audit.returncode == 0, audit.output[-4000:]
    used = permissions_used(proxies["s3"], "s3") | permissions_used(proxies["gcs"], "gcs")
    denied = sorted({event["operation"] for proxy in proxies.values() for event in proxy.events() if event["fault"]})
    assert not denied, "calls outside the documented audit permissions: %s" % denied
    assert used == documented["audit"], "used but not documented: %s; documented but never used: %s" % (
        sorted(used - documented["audit"]),
        sorted(documented["audit"] - used),
    )


def test_the_optional_list_bucket_permission_stands_in_for_a_denied_get_bucket_location(
    clouds, buckets, fault_proxy, run_module
):
    """s3:ListBucket is documented as optional: with s3:GetBucketLocation denied, HeadBucket finds the region
    instead."""
    documented = documented_permissions()
    bucket = buckets("plain")[0]["name"]
    proxy = fault_proxy("s3")
    allow_only(proxy, "s3", (documented["audit"] | documented["audit_optional"]) - {"s3:GetBucketLocation"})
    result, run = run_module("segments.cloud.segments_s3_info", {"name": [bucket]}, aws_endpoint=proxy.url)
    run.assert_no_traceback()
    assert not result.get("failed"), result.get("msg")
    assert result["buckets"][0]["region"] == clouds.region
    assert "s3:ListBucket" in permissions_used(proxy, "s3") and "s3:ListBucket" in documented["audit_optional"]


def test_azure_secrets_never_appear_at_vvv(clouds, azurite, azure_accounts, run_tasks, monkeypatch):
    """secret (by option and by AZURE_SECRET), an account key, connection strings and a SAS token as canaries, at -vvv,
    on runs that work and runs that fail (a key and a SAS token the account rejects)."""
    import base64

    from helpers_azure import connection_string

    working, keyed, with_sas = azure_accounts("security", 3)
    secret, environment_secret = canary("azuresecret"), canary("azureenvsecret")
    account_key = base64.b64encode(canary("accountkey").encode()).decode()
    sas_signature = canary("sassig")
    monkeypatch.setenv("AZURE_SECRET", environment_secret)
    # A connection string that works, carrying a canary in a pair the client ignores: the whole string is the secret.
    string_canary = canary("connstr")
    working_string = connection_string(clouds.azure_endpoint, working) + "SegmentsCanary=%s;" % string_canary
    sas_string = "AccountName=%s;BlobEndpoint=%s/%s;SharedAccessSignature=sv=2021-08-06&ss=b&srt=s&sp=rw&sig=%s" % (
        with_sas,
        clouds.azure_endpoint,
        with_sas,
        sas_signature,
    )
    connection_strings = {working: working_string, with_sas: sas_string}
    run = run_tasks(
        [
            (
                "cors",
                "segments.cloud.segments_azure_cors",
                {"name": [working], "connection_strings": connection_strings, "secret": secret},
            ),
            (
                "info",
                "segments.cloud.segments_azure_info",
                {"name": [working], "connection_strings": connection_strings},
            ),
            (
                "wrong_key",
                "segments.cloud.segments_azure_cors",
                {
                    "name": [keyed],
                    "account_keys": {keyed: account_key},
                    "blob_endpoint": clouds.azure_endpoint + "/{account}",
                    "secret": secret,
                },
            ),
            (
                "bad_sas",
                "segments.cloud.segments_azure_cors",
                {"name": [with_sas], "connection_strings": connection_strings},
            ),
        ],
        extra_args=("-vvv",),
    )
    run.assert_no_traceback()
    assert not run.results["cors"].get("failed") and not run.results["info"].get("failed"), run.results["cors"].get(
        "msg"
    )
    assert run.results["wrong_key"].get("failed") and run.results["bad_sas"].get("failed")
    assert NO_LOG_PLACEHOLDER in run.stdout, "-vvv shows the module arguments, masked"
    assert_not_shown(
        [secret, environment_secret, account_key, string_canary, working_string, sas_string, sas_signature],
        run.stdout + run.stderr,
    )
