# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures of the browser tests: one headless Chromium, the HTTPS server of the pages, the stores, and containers in
each phase of their life (before onboarding, onboarded, offboarded), made once per session and removed at its end.

Every web origin of the tests maps to the page server and every store host to its local server; anything else the
browser asks for resolves nowhere, so nothing leaves the machine.
"""

from __future__ import annotations

import os

import pytest
from chromium import CHROMIUM, Page, start_browser
from servers import PageServer, png_image
from stores import STORES

# The origins the pages run at.
APP = "https://app.segments.ai"
OTHER_SUBDOMAIN = "https://annotate.segments.ai"
APEX = "https://segments.ai"
CUSTOMER = "https://viewer.customer.example"  # the customer's own app, with a CORS rule of its own
UNRELATED = "https://unrelated.example"
WEB_ORIGINS = (APP, OTHER_SUBDOMAIN, APEX, CUSTOMER, UNRELATED)

IMAGE = png_image()


@pytest.fixture(scope="session")
def page_server():
    server = PageServer([origin.split("//", 1)[1] for origin in WEB_ORIGINS])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def store_objects():
    """One instance of every store (skips without the local clouds' environment, as the system tests do)."""
    if not os.environ.get("AWS_ENDPOINT_URL"):
        pytest.skip("browser tests need the local clouds: run SEGMENTS_STAGES=browser bash scripts/test")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("%s is missing: bash scripts/setup installs Debian's chromium" % CHROMIUM)
    return {name: factory() for name, factory in STORES.items()}


@pytest.fixture(scope="session")
def browser(page_server, store_objects):
    rules = ["MAP %s:443 127.0.0.1:%d" % (origin.split("//", 1)[1], page_server.port) for origin in WEB_ORIGINS]
    for store in store_objects.values():
        rules.extend(store.resolver_rules())
    rules.append("MAP * ~NOTFOUND")
    started = start_browser(rules)
    yield started
    started.close()


@pytest.fixture
def open_page(browser):
    """Factory: open_page(origin) -> a Page at exactly that origin, in a browser context of its own (closed after)."""
    pages = []

    def open_at(origin: str) -> Page:
        page = Page(browser, origin + "/")
        pages.append(page)
        return page

    yield open_at
    for page in pages:
        page.close()


class Containers:
    """Per store, one container per phase, made on first use: "before" (the customer's rule only), "onboarded"
    (the collection's defaults), "offboarded" (onboarded, then offboarded), and "onboarded_max_age_3600"."""

    def __init__(self, stores: dict) -> None:
        self.stores = stores
        self.made: dict = {}

    def get(self, store_name: str, phase: str) -> str:
        key = (store_name, phase)
        if key not in self.made:
            store = self.stores[store_name]
            container = store.create(CUSTOMER, IMAGE)
            self.made[key] = container
            if phase in ("onboarded", "offboarded"):
                store.onboard(container)
            if phase == "onboarded_max_age_3600":
                store.onboard(container, max_age_seconds=3600)
            if phase == "offboarded":
                store.offboard(container)
        return self.made[key]

    def remove_all(self) -> None:
        for (store_name, _phase), container in self.made.items():
            self.stores[store_name].delete(container)


@pytest.fixture(scope="session")
def containers(store_objects):
    made = Containers(store_objects)
    yield made
    made.remove_all()
