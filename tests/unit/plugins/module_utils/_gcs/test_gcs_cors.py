# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.segments.cloud.plugins.module_utils._gcs.cors import (
    DEFAULT_MAX_AGE_SECONDS,
    OWNERSHIP_RULE_DOC,
    SEGMENTS_ORIGINS,
    WILDCARD_ORIGIN_DOC,
    build_entry,
    entries_equal,
    foreign_entries,
    is_ours,
    is_segments_origin,
    merge_entry,
    remove_entries,
    validate_methods,
    validate_origins,
)

HYPOTHESIS_SETTINGS = settings(max_examples=int(os.environ.get("SEGMENTS_HYPOTHESIS_EXAMPLES", "300")), deadline=None)

OUR_ENTRY = {"origin": list(SEGMENTS_ORIGINS), "method": ["GET"], "responseHeader": [], "maxAgeSeconds": 3600}
CUSTOMER_ENTRY = {
    "origin": ["https://customer.example"],
    "method": ["GET", "PUT"],
    "responseHeader": ["Content-Type"],
    "maxAgeSeconds": 60,
}
MIXED_ENTRY = {"origin": ["https://segments.ai", "https://customer.example"], "method": ["GET"]}
ANY_ORIGIN_ENTRY = {"origin": ["*"], "method": ["GET"]}


# build_entry


def test_build_entry_defaults():
    # Segments.ai's setup page today: responseHeader ["*"], with GET, 3600 s and both Segments origins.
    assert build_entry() == {
        "origin": SEGMENTS_ORIGINS,
        "method": ["GET"],
        "responseHeader": ["*"],
        "maxAgeSeconds": DEFAULT_MAX_AGE_SECONDS,
    }


def test_build_entry_still_accepts_the_earlier_empty_response_headers():
    assert build_entry(response_headers=[])["responseHeader"] == []


def test_build_entry_upper_cases_methods_and_copies_lists():
    origins = ["https://app.segments.ai"]
    desired_entry = build_entry(
        origins=origins, methods=["get", "Head"], response_headers=["Content-Type"], max_age_seconds=60
    )
    assert desired_entry == {
        "origin": ["https://app.segments.ai"],
        "method": ["GET", "HEAD"],
        "responseHeader": ["Content-Type"],
        "maxAgeSeconds": 60,
    }
    desired_entry["origin"].append("https://other.example")
    assert origins == ["https://app.segments.ai"]


def test_build_entry_does_not_share_the_module_constant():
    build_entry()["origin"].append("https://other.example")
    assert SEGMENTS_ORIGINS == ["https://segments.ai", "https://*.segments.ai"]


def test_build_entry_without_max_age_leaves_the_key_out():
    assert "maxAgeSeconds" not in build_entry(max_age_seconds=None)


# is_segments_origin


@pytest.mark.parametrize(
    "origin",
    [
        "https://segments.ai",
        "https://*.segments.ai",
        "https://app.segments.ai",
        "https://eu.app.segments.ai",
        "https://SEGMENTS.AI",
        "https://App.Segments.Ai",
        "HTTPS://segments.ai",
    ],
)
def test_is_segments_origin_accepts(origin):
    assert is_segments_origin(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "http://segments.ai",
        "https://segments.ai.evil.com",
        "https://evilsegments.ai",
        "https://segments.ai/",
        "https://segments.ai:443",
        "https://segments.ai/path",
        "https://segments.ai\n",
        " https://segments.ai",
        "https://*.*.segments.ai",
        "https://app.*.segments.ai",
        "https://.segments.ai",
        "https://-app.segments.ai",
        "https://\u017fegments.ai",
        "segments.ai",
        "*",
        "",
        None,
        42,
    ],
)
def test_is_segments_origin_refuses(origin):
    assert not is_segments_origin(origin)


# is_ours


@pytest.mark.parametrize(
    "entry, expected",
    [
        (OUR_ENTRY, True),
        ({"origin": ["https://app.segments.ai"]}, True),
        ({"origin": []}, False),
        ({"method": ["GET"]}, False),
        (MIXED_ENTRY, False),
        (CUSTOMER_ENTRY, False),
        (ANY_ORIGIN_ENTRY, False),
        ({"origin": "https://segments.ai"}, False),
        (None, False),
        ("https://segments.ai", False),
    ],
)
def test_is_ours(entry, expected):
    assert is_ours(entry) is expected


def test_ownership_rule_doc_is_one_paragraph():
    assert "\n" not in OWNERSHIP_RULE_DOC
    assert "every origin" in OWNERSHIP_RULE_DOC


def test_wildcard_origin_doc_is_one_sentence():
    assert "\n" not in WILDCARD_ORIGIN_DOC
    assert WILDCARD_ORIGIN_DOC.count(". ") == 0 and WILDCARD_ORIGIN_DOC.endswith(".")


# entries_equal


def test_entries_equal_ignores_order_duplicates_and_method_case():
    assert entries_equal(
        {
            "origin": ["https://*.segments.ai", "https://segments.ai"],
            "method": ["get", "HEAD"],
            "responseHeader": ["A", "B"],
            "maxAgeSeconds": 1,
        },
        {
            "origin": ["https://segments.ai", "https://*.segments.ai", "https://segments.ai"],
            "method": ["HEAD", "GET"],
            "responseHeader": ["B", "A", "A"],
            "maxAgeSeconds": 1,
        },
    )


def test_entries_equal_treats_missing_fields_as_empty():
    assert entries_equal(
        {"origin": ["https://segments.ai"], "method": ["GET"]},
        {"origin": ["https://segments.ai"], "method": ["GET"], "responseHeader": []},
    )
    assert entries_equal(
        {"origin": ["https://segments.ai"]}, {"origin": ["https://segments.ai"], "maxAgeSeconds": None}
    )


@pytest.mark.parametrize(
    "other",
    [
        dict(OUR_ENTRY, maxAgeSeconds=60),
        dict(OUR_ENTRY, method=["GET", "HEAD"]),
        dict(OUR_ENTRY, origin=["https://segments.ai"]),
        dict(OUR_ENTRY, responseHeader=["Content-Type"]),
        {key: value for key, value in OUR_ENTRY.items() if key != "maxAgeSeconds"},
        dict(OUR_ENTRY, extra="value"),
        dict(OUR_ENTRY, method="GET"),
    ],
)
def test_entries_equal_sees_real_differences(other):
    assert not entries_equal(OUR_ENTRY, other)


def test_entries_equal_does_not_crash_on_malformed_entries():
    assert not entries_equal(OUR_ENTRY, None)
    assert not entries_equal(OUR_ENTRY, ["not", "a", "dict"])
    assert entries_equal({"origin": [{"odd": 1}]}, {"origin": [{"odd": 1}]})


# merge_entry


@pytest.mark.parametrize("fresh", [None, []])
def test_merge_into_fresh_bucket(fresh):
    new_entries, changed = merge_entry(fresh, OUR_ENTRY)
    assert changed
    assert new_entries == [OUR_ENTRY]


def test_merge_appends_after_foreign_entries_and_keeps_them_exactly():
    current = [CUSTOMER_ENTRY, MIXED_ENTRY, ANY_ORIGIN_ENTRY]
    new_entries, changed = merge_entry(current, OUR_ENTRY)
    assert changed
    assert new_entries == [CUSTOMER_ENTRY, MIXED_ENTRY, ANY_ORIGIN_ENTRY, OUR_ENTRY]


def test_merge_replaces_stale_entry_in_place():
    stale_entry = {"origin": ["https://segments.ai"], "method": ["GET"], "maxAgeSeconds": 60}
    new_entries, changed = merge_entry([CUSTOMER_ENTRY, stale_entry, MIXED_ENTRY], OUR_ENTRY)
    assert changed
    assert new_entries == [CUSTOMER_ENTRY, OUR_ENTRY, MIXED_ENTRY]


def test_merge_collapses_several_of_ours_at_the_first_position():
    current = [
        {"origin": ["https://app.segments.ai"], "method": ["GET"]},
        CUSTOMER_ENTRY,
        copy.deepcopy(OUR_ENTRY),
        MIXED_ENTRY,
        {"origin": ["https://*.segments.ai"], "method": ["PUT"]},
    ]
    new_entries, changed = merge_entry(current, OUR_ENTRY)
    assert changed
    assert new_entries == [OUR_ENTRY, CUSTOMER_ENTRY, MIXED_ENTRY]


def test_merge_collapses_two_identical_copies_of_ours():
    new_entries, changed = merge_entry([OUR_ENTRY, CUSTOMER_ENTRY, OUR_ENTRY], OUR_ENTRY)
    assert changed
    assert new_entries == [OUR_ENTRY, CUSTOMER_ENTRY]


def test_merge_equal_in_meaning_is_unchanged_and_keeps_the_existing_form():
    existing_entry = {
        "origin": ["https://*.segments.ai", "https://segments.ai"],
        "method": ["get"],
        "maxAgeSeconds": 3600,
    }
    current = [CUSTOMER_ENTRY, existing_entry]
    new_entries, changed = merge_entry(current, OUR_ENTRY)
    assert not changed
    assert new_entries == current
    assert new_entries[1] is not existing_entry


def test_merge_does_not_touch_inputs_or_share_them():
    current = [CUSTOMER_ENTRY, {"origin": ["https://segments.ai"], "method": ["GET"]}]
    current_before = copy.deepcopy(current)
    desired_entry = build_entry()
    desired_before = copy.deepcopy(desired_entry)
    new_entries, _changed = merge_entry(current, desired_entry)
    assert current == current_before
    assert desired_entry == desired_before
    new_entries[0]["origin"].append("https://changed.example")
    new_entries[1]["method"].append("PUT")
    assert current == current_before
    assert desired_entry == desired_before


@pytest.mark.parametrize("desired_entry", [CUSTOMER_ENTRY, MIXED_ENTRY, ANY_ORIGIN_ENTRY, {"origin": []}, None])
def test_merge_refuses_a_desired_entry_that_is_not_ours(desired_entry):
    with pytest.raises(ValueError):
        merge_entry([], desired_entry)


# remove_entries and foreign_entries


def test_remove_only_ours_gives_empty_list():
    assert remove_entries([OUR_ENTRY, {"origin": ["https://app.segments.ai"]}]) == ([], True)


@pytest.mark.parametrize("fresh", [None, []])
def test_remove_from_fresh_bucket_is_unchanged(fresh):
    assert remove_entries(fresh) == ([], False)


def test_remove_keeps_foreign_entries_in_order():
    current = [CUSTOMER_ENTRY, OUR_ENTRY, MIXED_ENTRY, ANY_ORIGIN_ENTRY]
    assert remove_entries(current) == ([CUSTOMER_ENTRY, MIXED_ENTRY, ANY_ORIGIN_ENTRY], True)


def test_remove_without_ours_is_unchanged():
    current = [CUSTOMER_ENTRY, MIXED_ENTRY]
    assert remove_entries(current) == ([CUSTOMER_ENTRY, MIXED_ENTRY], False)


def test_foreign_entries_are_copies():
    current = [CUSTOMER_ENTRY, OUR_ENTRY]
    kept_entries = foreign_entries(current)
    assert kept_entries == [CUSTOMER_ENTRY]
    kept_entries[0]["method"].append("DELETE")
    assert CUSTOMER_ENTRY["method"] == ["GET", "PUT"]


# validators


@pytest.mark.parametrize(
    "origins",
    [
        ["https://segments.ai"],
        list(SEGMENTS_ORIGINS),
        ["http://localhost:8080", "https://[::1]:8443"],
        ["https://*.example.com", "http://example.com:*"],
    ],
)
def test_validate_origins_accepts(origins):
    assert validate_origins(origins) is None


def test_validate_origins_accepts_any_origin_only_when_allowed():
    message = validate_origins(["https://segments.ai", "*"])
    assert message is not None and "allow_any_origin" in message
    assert validate_origins(["*"], allow_any_origin=True) is None


@pytest.mark.parametrize(
    "origins",
    [
        None,
        [],
        "https://segments.ai",
        [None],
        [""],
        ["segments.ai"],
        ["https://segments.ai/"],
        ["https://segments.ai/path"],
        ["https://*.*.segments.ai"],
        ["https://segments.ai:99999"],
        ["https://segments.ai:0"],
        ["https://seg ments.ai"],
    ],
)
def test_validate_origins_refuses(origins):
    message = validate_origins(origins)
    assert isinstance(message, str) and message


@pytest.mark.parametrize("methods", [["GET"], ["get", "Head", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]])
def test_validate_methods_accepts(methods):
    assert validate_methods(methods) is None


@pytest.mark.parametrize("methods", [None, [], "GET", ["FETCH"], ["*"], [None], ["GET", "TRACE"]])
def test_validate_methods_refuses(methods):
    message = validate_methods(methods)
    assert isinstance(message, str) and message


# property-based tests

SEGMENTS_ORIGIN_POOL = [
    "https://segments.ai",
    "https://*.segments.ai",
    "https://app.segments.ai",
    "https://SEGMENTS.ai",
    "https://eu.app.segments.ai",
]
FOREIGN_ORIGIN_POOL = [
    "https://example.com",
    "http://segments.ai",
    "https://segments.ai.evil.com",
    "*",
    "https://*.example.com",
    "https://notsegments.ai",
]

segments_origins = st.sampled_from(SEGMENTS_ORIGIN_POOL)
foreign_origins = st.one_of(
    st.sampled_from(FOREIGN_ORIGIN_POOL), st.text(max_size=20).filter(lambda origin: not is_segments_origin(origin))
)
any_origin = st.one_of(segments_origins, foreign_origins)
methods = st.lists(st.sampled_from(["GET", "get", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]), max_size=4)
headers = st.lists(st.sampled_from(["Content-Type", "ETag", "x-goog-meta-foo"]), max_size=3)
max_ages = st.one_of(st.none(), st.integers(min_value=0, max_value=86400))


@st.composite
def cors_entries(draw, origin_lists):
    """One CORS entry with any subset of the optional keys present."""
    entry = {}
    if draw(st.booleans()):
        entry["origin"] = draw(origin_lists)
    if draw(st.booleans()):
        entry["method"] = draw(methods)
    if draw(st.booleans()):
        entry["responseHeader"] = draw(headers)
    if draw(st.booleans()):
        entry["maxAgeSeconds"] = draw(max_ages)
    return entry


our_entries = cors_entries(st.lists(segments_origins, min_size=1, max_size=3)).filter(lambda entry: "origin" in entry)
# Mixed lists (Segments plus foreign origins) are foreign entries and must survive every operation untouched.
mixed_origin_lists = st.tuples(
    st.lists(segments_origins, max_size=2), st.lists(foreign_origins, min_size=1, max_size=2)
).flatmap(lambda parts: st.permutations(parts[0] + parts[1]))
foreign_cors_entries = cors_entries(st.one_of(st.lists(foreign_origins, max_size=3), mixed_origin_lists))
cors_lists = st.lists(st.one_of(our_entries, foreign_cors_entries), max_size=6)
foreign_only_cors_lists = st.lists(foreign_cors_entries, max_size=6)
desired_entries = st.builds(
    build_entry,
    origins=st.lists(segments_origins, min_size=1, max_size=3),
    methods=st.lists(st.sampled_from(["get", "GET", "HEAD", "PUT"]), min_size=1, max_size=3),
    response_headers=headers,
    max_age_seconds=max_ages,
)


def _count_ours(entries):
    return sum(1 for entry in entries if is_ours(entry))


@HYPOTHESIS_SETTINGS
@given(current=st.one_of(st.none(), cors_lists), desired_entry=desired_entries)
def test_property_merge(current, desired_entry):
    current_before = copy.deepcopy(current)
    desired_before = copy.deepcopy(desired_entry)

    new_entries, changed = merge_entry(current, desired_entry)

    assert current == current_before
    assert desired_entry == desired_before
    assert foreign_entries(new_entries) == foreign_entries(current)
    assert _count_ours(new_entries) == 1
    our_entry = next(entry for entry in new_entries if is_ours(entry))
    assert entries_equal(our_entry, desired_entry)
    if changed:
        assert our_entry == desired_entry
    else:
        assert new_entries == current

    current_list = current or []
    first_ours = next((index for index, entry in enumerate(current_list) if is_ours(entry)), None)
    expected_position = len(new_entries) - 1 if first_ours is None else first_ours
    assert new_entries.index(our_entry) == expected_position

    again, changed_again = merge_entry(new_entries, desired_entry)
    assert not changed_again
    assert again == new_entries


@HYPOTHESIS_SETTINGS
@given(current=foreign_only_cors_lists, desired_entry=desired_entries)
def test_property_remove_after_merge_restores_foreign_only_bucket(current, desired_entry):
    merged_entries, changed = merge_entry(current, desired_entry)
    assert changed
    restored_entries, removed = remove_entries(merged_entries)
    assert removed
    assert restored_entries == current


@HYPOTHESIS_SETTINGS
@given(current=st.one_of(st.none(), cors_lists))
def test_property_remove(current):
    current_before = copy.deepcopy(current)

    new_entries, changed = remove_entries(current)

    assert current == current_before
    assert _count_ours(new_entries) == 0
    assert new_entries == foreign_entries(current)
    assert changed == (_count_ours(current or []) > 0)
    assert remove_entries(new_entries) == (new_entries, False)


@HYPOTHESIS_SETTINGS
@given(entry=st.one_of(our_entries, foreign_cors_entries), shuffled=st.randoms(use_true_random=False))
def test_property_entries_equal_ignores_list_order(entry, shuffled):
    reordered_entry = copy.deepcopy(entry)
    for key in ("origin", "method", "responseHeader"):
        if key in reordered_entry:
            shuffled.shuffle(reordered_entry[key])
            reordered_entry[key] = reordered_entry[key] + reordered_entry[key][:1]
    assert entries_equal(entry, reordered_entry)
    assert entries_equal(reordered_entry, entry)


@HYPOTHESIS_SETTINGS
@given(origin=st.text(max_size=40))
def test_property_segments_origin_is_https_segments_host(origin):
    if is_segments_origin(origin):
        lowered_origin = origin.lower()
        assert lowered_origin.startswith("https://")
        host = lowered_origin[len("https://") :]
        assert host == "segments.ai" or host.endswith(".segments.ai")
        assert all(character.isascii() for character in origin)
