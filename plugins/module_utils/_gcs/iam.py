# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import json
import re

DEFAULT_ROLE = "roles/storage.objectViewer"
IAM_POLICY_VERSION = 3
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")

# The default role, as segments_gcs_access documents it (a unit test holds the two together).
LEAST_PRIVILEGE_DOC = (
    "Unset means the least-privilege custom role Segments.ai's setup page asks for, "
    "C(projects/PROJECT/roles/segmentsObjectReader) in O(project), holding only C(storage.objects.get)."
)

_EXAMPLE_MEMBER = "serviceAccount:NAME@PROJECT.iam.gserviceaccount.com"
_DOMAIN = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
_EMAIL = r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + _DOMAIN
# re.ASCII keeps IGNORECASE from folding look-alike Unicode letters into ASCII ones.
_MEMBER_RES = (
    re.compile(r"(?:serviceAccount|user|group):" + _EMAIL, re.IGNORECASE | re.ASCII),
    re.compile(r"domain:" + _DOMAIN, re.IGNORECASE | re.ASCII),
    re.compile(r"(?:principal|principalSet)://[^\s]+", re.IGNORECASE | re.ASCII),
)
_ROLE_NAME = r"[A-Za-z0-9_.]+"
_ROLE_RES = (
    re.compile(r"roles/" + _ROLE_NAME, re.ASCII),
    re.compile(r"projects/(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]/roles/" + _ROLE_NAME, re.ASCII),
    re.compile(r"organizations/[0-9]+/roles/" + _ROLE_NAME, re.ASCII),
)


def validate_member(member, allow_public: bool = False, public_refusal: str | None = None) -> str | None:
    """Return None if member is an IAM principal this collection may grant, else a sentence saying what is wrong.

    allUsers and allAuthenticatedUsers are refused unless allow_public is True; public_refusal, a sentence with one %r
    for the member, is the caller's own words for that refusal. The one place public members are refused."""
    if member in PUBLIC_MEMBERS:
        if allow_public:
            return None
        return (
            public_refusal
            or "member %r would make every object in the bucket public; "
            "set allow_public_member to true if that is really intended."
        ) % (member,)
    if isinstance(member, str) and any(member_re.fullmatch(member) for member_re in _MEMBER_RES):
        return None
    return (
        "member %r is not an IAM principal; expected a form such as %s "
        "(or user:EMAIL, group:EMAIL, domain:DOMAIN, principal://..., principalSet://...)." % (member, _EXAMPLE_MEMBER)
    )


def validate_role(role) -> str | None:
    """Return None if role is roles/NAME, projects/PROJECT/roles/NAME or organizations/DIGITS/roles/NAME, else a sentence saying what is wrong."""
    if isinstance(role, str) and any(role_re.fullmatch(role) for role_re in _ROLE_RES):
        return None
    return (
        "role %r is not an IAM role; expected roles/NAME (for example %s), projects/PROJECT/roles/NAME "
        "or organizations/DIGITS/roles/NAME." % (role, DEFAULT_ROLE)
    )


def _member_key(member):
    """Identity of a member: the type prefix is case-insensitive in IAM, everything after it is compared exactly."""
    if not isinstance(member, str) or ":" not in member:
        return member
    member_type, _separator, principal = member.partition(":")
    return member_type.lower() + ":" + principal


def _is_unconditional_binding_for(binding, role: str) -> bool:
    """True if binding grants role without a condition; a conditional binding is someone else's decision and never ours to edit."""
    return isinstance(binding, dict) and binding.get("role") == role and binding.get("condition") is None


def _holds(binding: dict, member: str) -> bool:
    member_key = _member_key(member)
    return any(_member_key(existing_member) == member_key for existing_member in binding.get("members") or [])


def has_member(policy, role: str, member: str) -> bool:
    """True if an unconditional binding for role in policy lists member; conditional bindings are not looked at."""
    return any(
        _is_unconditional_binding_for(binding, role) and _holds(binding, member)
        for binding in (policy or {}).get("bindings") or []
    )


def add_member(policy, role: str, member: str) -> tuple[dict, bool]:
    """Return (new_policy, changed) with member added to the first unconditional binding for role, or a new binding appended.

    Every other binding, member, the etag, the version and other top-level keys are kept exactly; policy is never modified."""
    new_policy = copy.deepcopy(policy) if policy is not None else {}
    if has_member(new_policy, role, member):
        return new_policy, False
    bindings = new_policy.get("bindings") or []
    target_binding = next((binding for binding in bindings if _is_unconditional_binding_for(binding, role)), None)
    if target_binding is None:
        bindings.append({"role": role, "members": [member]})
    else:
        target_binding["members"] = list(target_binding.get("members") or []) + [member]
    new_policy["bindings"] = bindings
    return new_policy, True


def remove_member(policy, role: str, member: str) -> tuple[dict, bool]:
    """Return (new_policy, changed) with member removed from every unconditional binding for role; a binding left empty is dropped.

    Conditional bindings, other bindings and top-level keys are kept exactly; policy is never modified."""
    new_policy = copy.deepcopy(policy) if policy is not None else {}
    if not has_member(new_policy, role, member):
        return new_policy, False
    member_key = _member_key(member)
    kept_bindings = []
    for binding in new_policy.get("bindings") or []:
        if _is_unconditional_binding_for(binding, role) and _holds(binding, member):
            binding["members"] = [existing for existing in binding["members"] if _member_key(existing) != member_key]
            if not binding["members"]:
                continue
        kept_bindings.append(binding)
    new_policy["bindings"] = kept_bindings
    return new_policy, True


def foreign_bindings(policy, role: str, member: str) -> list:
    """Return deep copies of every binding in policy, with member taken out of the unconditional bindings for role and any
    binding that leaves empty omitted; two policies whose foreign_bindings are equal differ only in our grant."""
    policy_without_member, _changed = remove_member(policy, role, member)
    return policy_without_member.get("bindings") or []


def condition_key(condition) -> str | None:
    """A condition as canonical JSON, None for no condition: the key that tells conditional grants apart."""
    return json.dumps(condition, sort_keys=True) if condition else None


def binding_grants(bindings) -> dict:
    """{(role, condition as JSON): set of members}: what a list of bindings grants, however it is split into
    bindings and ordered; a role and condition that grant no member are left out."""
    grants: dict = {}
    for binding in bindings or []:
        if isinstance(binding, dict) and binding.get("members"):
            key = (str(binding.get("role")), condition_key(binding.get("condition")))
            grants.setdefault(key, set()).update(str(member) for member in binding["members"])
    return grants


def bindings_equal(first: dict | None, second: dict | None) -> bool:
    """True when two IAM policies grant the same members the same roles under the same conditions, however split
    and ordered: [{r: [a, b]}] equals [{r: [a]}, {r: [b]}]. The one equality of IAM policies (etag and version aside)."""
    return binding_grants((first or {}).get("bindings")) == binding_grants((second or {}).get("bindings"))


def iam_read_back_problem(read_back_policy: dict, written_policy: dict, role: str, member: str) -> str | None:
    """None if the policy read back grants role to member exactly when the written one does and every other binding
    means the same, else a sentence saying what differs."""
    if has_member(read_back_policy, role, member) != has_member(written_policy, role, member):
        return "the binding of %s to %s read back after the write is not the one written" % (member, role)
    if binding_grants(foreign_bindings(read_back_policy, role, member)) != binding_grants(
        foreign_bindings(written_policy, role, member)
    ):
        return "the other IAM bindings read back after the write are not the ones written"
    return None
