"""LTI roles to our roles: pure table tests."""

from __future__ import annotations

import pytest

from lms.lti.roles import map_roles, may_choose_content, parse

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    "role,parsed",
    [
        (LIS + "membership#Learner", ("membership", "Learner")),
        (LIS + "membership/Instructor#TeachingAssistant", ("membership", "Instructor")),
        (LIS + "institution/person#Administrator", ("institution", "Administrator")),
        (LIS + "system/person#SysAdmin", ("system", "SysAdmin")),
        ("Instructor", ("membership", "Instructor")),
        ("http://example.org/custom#Learner", ("membership", "Learner")),
    ],
)
def test_parse(role, parsed):
    assert parse(role) == parsed


@pytest.mark.parametrize(
    "claimed,cap,expected",
    [
        ([], "admin", "learner"),
        ([LIS + "membership#Learner"], "admin", "learner"),
        ([LIS + "membership#Mentor"], "admin", "learner"),
        ([LIS + "institution/person#Student"], "admin", "learner"),
        ([LIS + "membership#Instructor"], "admin", "trainer"),
        ([LIS + "membership#ContentDeveloper"], "admin", "trainer"),
        ([LIS + "institution/person#Faculty"], "admin", "trainer"),
        ([LIS + "membership#Learner", LIS + "membership#Administrator"], "admin", "admin"),
        ([LIS + "system/person#Administrator"], "admin", "admin"),
        ([LIS + "system/person#Administrator"], "trainer", "trainer"),
        (["Instructor"], "admin", "trainer"),
        ([LIS + "system/person#Administrator"], "learner", "learner"),
    ],
)
def test_map_roles_takes_the_highest_within_the_cap(claimed, cap, expected):
    assert map_roles(claimed, cap=cap) == expected


@pytest.mark.parametrize(
    "claimed,allowed",
    [
        ([LIS + "membership#Learner"], False),
        ([LIS + "membership#Mentor"], False),
        ([LIS + "membership#Instructor"], True),
        ([LIS + "membership/Instructor#TeachingAssistant"], True),
        ([LIS + "membership#ContentDeveloper"], True),
        ([LIS + "institution/person#Administrator"], True),
    ],
)
def test_who_may_choose_content(claimed, allowed):
    assert may_choose_content(claimed) is allowed
