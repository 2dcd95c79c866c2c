# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Issue 14, part 1: a real browser on Segments' origin reads images from the customer's store, or is refused.

A headless Chromium opens a page at exactly https://app.segments.ai (and at other origins), and reads an image of a
container, by a presigned URL in the form Segments' app gets, the two ways the app does: ``fetch()``, and an
``<img crossorigin>`` drawn to a canvas and read back. The containers are onboarded and offboarded by the
collection's real modules with their defaults. What the tables below say is what the browser must do:

- before onboarding, Segments' origin is refused (so these tests can fail);
- after onboarding, Segments' origin reads the image's bytes and pixels, and so do the other origins the default
  covers; an unrelated origin is refused;
- the customer's own CORS rule keeps working for its origin after onboarding and after offboarding;
- offboarding makes Segments' origin fail again;
- a request that needs a preflight is allowed.

A refusal must be a CORS refusal the browser reports (DevTools' corsErrorStatus), not a request that never arrived.
Each table row names its store; another cloud adds its rows.
"""

from __future__ import annotations

import json
import time

import pytest
from conftest import APEX, APP, CUSTOMER, IMAGE, OTHER_SUBDOMAIN, UNRELATED
from servers import IMAGE_PIXEL

# (store, phase of the container, origin of the page, whether the browser lets the page read the image)
READS = [
    ("s3", "before", APP, False),
    ("s3", "before", CUSTOMER, True),
    ("s3", "onboarded", APP, True),
    ("s3", "onboarded", OTHER_SUBDOMAIN, True),  # the default https://*.segments.ai
    ("s3", "onboarded", APEX, True),  # the earlier default https://segments.ai, still in the default list
    ("s3", "onboarded", UNRELATED, False),
    ("s3", "onboarded", CUSTOMER, True),
    ("s3", "offboarded", APP, False),
    ("s3", "offboarded", OTHER_SUBDOMAIN, False),
    ("s3", "offboarded", CUSTOMER, True),
]

# (store, phase, origin, allowed): a fetch() with a header outside the CORS-safelisted ones, so the browser first
# sends a preflight (OPTIONS) and sends the GET only when the preflight allows it.
PREFLIGHTED_READS = [
    ("s3", "before", APP, False),
    ("s3", "onboarded", APP, True),
    ("s3", "onboarded", UNRELATED, False),
]

# (store, phase, preflights the browser sends for two preflighted reads 6 s apart). Chromium keeps a preflight
# answer without Access-Control-Max-Age for 5 s, and one with it for at most 2 h.
PREFLIGHT_CACHE = [
    ("s3", "onboarded", 2),  # the default rule sets no MaxAgeSeconds
    ("s3", "onboarded_max_age_3600", 1),  # max_age_seconds: 3600
]
# A header no CORS-safelist names, as an app would send for an authenticated read.
PREFLIGHT_HEADERS = {"X-Segments-Request": "browser-test"}


def row_id(row) -> str:
    return "-".join(str(part).replace("https://", "") for part in row)


def read(page, url: str, how: str, headers: dict | None = None) -> dict:
    if how == "fetch":
        return page.evaluate("readByFetch(%s, %s)" % (_js(url), _js(headers or {})))
    return page.evaluate("readByImage(%s)" % _js(url))


def _js(value) -> str:
    return json.dumps(value)


def assert_read(result: dict, how: str) -> None:
    """The page got the image: the exact bytes by fetch(), the exact pixel by the canvas."""
    assert result["ok"], "the browser refused a read it should allow: %s" % result
    if how == "fetch":
        assert result["status"] == 200 and bytes.fromhex(result["hex"]) == IMAGE, result
    else:
        assert result["width"] == 2 and tuple(result["pixel"]) == IMAGE_PIXEL, result


def assert_refused(page, result: dict) -> None:
    """The browser refused the read for CORS, and says so (the request did reach the store)."""
    assert not result["ok"], "the browser let %s read the image: %s" % (page.origin, result)
    assert page.cors_errors(), "the read failed, but not for CORS: %s" % result


def preflights(page, url: str) -> int:
    host = url.split("/")[2]
    return sum(1 for method, sent in page.requests() if method == "OPTIONS" and sent.split("/")[2] == host)


@pytest.mark.parametrize("how", ["fetch", "img"])
@pytest.mark.parametrize("store_name, phase, origin, allowed", READS, ids=[row_id(row) for row in READS])
def test_read(store_name, phase, origin, allowed, how, containers, store_objects, open_page):
    store = store_objects[store_name]
    url = store.image_url(containers.get(store_name, phase))
    page = open_page(origin)
    assert page.origin == origin
    result = read(page, url, how)
    if allowed:
        assert_read(result, how)
    else:
        assert_refused(page, result)
    # Plain reads are simple requests: the browser sends no preflight for them.
    assert preflights(page, url) == 0


@pytest.mark.parametrize(
    "store_name, phase, origin, allowed", PREFLIGHTED_READS, ids=[row_id(row) for row in PREFLIGHTED_READS]
)
def test_preflighted_read(store_name, phase, origin, allowed, containers, store_objects, open_page):
    store = store_objects[store_name]
    url = store.image_url(containers.get(store_name, phase))
    page = open_page(origin)
    result = read(page, url, "fetch", PREFLIGHT_HEADERS)
    assert preflights(page, url) == 1, page.requests()
    if allowed:
        assert_read(result, "fetch")
    else:
        assert_refused(page, result)


@pytest.mark.parametrize("store_name, phase, expected", PREFLIGHT_CACHE, ids=[row_id(row) for row in PREFLIGHT_CACHE])
def test_preflight_cache(store_name, phase, expected, containers, store_objects, open_page):
    """What the max age changes: how often the browser re-asks. Only preflighted requests are affected."""
    store = store_objects[store_name]
    url = store.image_url(containers.get(store_name, phase))
    page = open_page(APP)
    assert_read(read(page, url, "fetch", PREFLIGHT_HEADERS), "fetch")
    time.sleep(6)  # past Chromium's 5 s default for an answer without a max age
    assert_read(read(page, url, "fetch", PREFLIGHT_HEADERS), "fetch")
    assert preflights(page, url) == expected, page.requests()


@pytest.mark.parametrize("store_name", ["s3"])
def test_offboarding_leaves_the_customer_rule_exactly(store_name, containers, store_objects):
    """What the browser saw after offboarding matches the store: only the customer's rule is left."""
    store = store_objects[store_name]
    fresh = store.cors_rules(containers.get(store_name, "before"))
    offboarded = store.cors_rules(containers.get(store_name, "offboarded"))
    assert offboarded == fresh and len(fresh) == 1
