# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.segments.cloud.plugins.plugin_utils.role_inputs import onboard_input_problems

PRINCIPAL = "arn:aws:iam::931508227573:user/segmentsai-prod-user"
ORIGINS = ["https://segments.ai", "https://*.segments.ai"]
MEMBER = "serviceAccount:reader@segments-prod.iam.gserviceaccount.com"
ROLE = "roles/storage.objectViewer"


def test_the_defaults_pass():
    assert onboard_input_problems(["a"], ["g"], PRINCIPAL, ORIGINS, MEMBER, ROLE) == []


def test_each_bad_option_is_stated_as_the_module_states_it():
    problems = onboard_input_problems(["a"], [], "*", ["https://*.*.segments.ai"], "", ROLE)
    assert len(problems) == 2
    assert "allow_public_principal" in problems[0]
    assert "one wildcard per origin" in problems[1]


def test_gcs_options_are_checked_only_with_gcs_buckets():
    assert onboard_input_problems(["a"], [], PRINCIPAL, ORIGINS, "bob", "viewer") == []
    problems = onboard_input_problems([], ["g"], "*", ORIGINS, "bob", "viewer")
    assert len(problems) == 2 and "serviceAccount:" in problems[0] and "roles/NAME" in problems[1]


def test_an_empty_member_is_left_to_the_argument_check():
    assert onboard_input_problems([], ["g"], PRINCIPAL, ORIGINS, "", ROLE) == []
