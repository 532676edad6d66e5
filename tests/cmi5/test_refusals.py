"""Launches the service refuses, each with a clear page and no call it should not make."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import requests
import sqlalchemy as sa

from lms.cmi5.models import Cmi5Session


def launch_query(lms, launch) -> dict:
    return {
        "endpoint": lms.endpoint,
        "fetch": lms.server.url_for(f"/fetch/{launch.key}"),
        "actor": json.dumps(launch.actor),
        "registration": launch.registration,
        "activityId": launch.activity_id,
    }


BROKEN = [
    ({"endpoint": None}, "The launch parameter endpoint is missing."),
    ({"fetch": ""}, "The launch parameter fetch is missing."),
    ({"fetch": "ftp://lms.example.org/fetch"}, "The launch parameter fetch is not an http(s) URL."),
    ({"endpoint": "lrs/"}, "The launch parameter endpoint is not an http(s) URL."),
    ({"actor": "{not json"}, "The actor parameter is not JSON."),
    (
        {"actor": '{"objectType": "Group", "member": []}'},
        "The actor parameter must be an xAPI Agent.",
    ),
    ({"actor": '{"mbox": "mailto:sam@example.org"}'}, "The actor must have an account"),
    ({"registration": "42"}, "The registration is not a UUID."),
    ({"activityId": "not an iri"}, "The activityId is not an IRI."),
]


@pytest.mark.parametrize(("change", "message"), BROKEN, ids=[m for _c, m in BROKEN])
def test_invalid_launch_parameters_are_refused_with_400_and_a_message(
    client, db, lms, platform, loaded, change, message
):
    launch = lms.launch("alpha")
    query = {**launch_query(lms, launch), **change}

    response = client.get(
        "/cmi5/launch/alpha?" + urlencode({k: v for k, v in query.items() if v is not None})
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert launch.fetches == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cmi5Session)) == 0


def test_a_launch_from_an_unregistered_platform_is_refused_without_calling_it(
    client, db, lms, loaded
):
    launch = lms.launch("alpha")
    response = client.get(lms.url(launch))
    assert response.status_code == 403
    assert "not registered here" in response.get_data(as_text=True)
    assert launch.fetches == 0


def test_a_launch_of_an_unknown_module_is_refused(client, db, lms, platform, loaded):
    launch = lms.launch("nowhere")
    response = client.get(lms.url(launch))
    assert response.status_code == 404
    assert "This module does not exist here." in response.get_data(as_text=True)
    assert launch.fetches == 0


def test_a_fetch_url_the_lms_refuses_a_second_time_gives_a_clear_page(
    client, db, lms, platform, loaded
):

    launch = lms.launch("alpha")
    first = requests.post(lms.server.url_for(f"/fetch/{launch.key}"), timeout=5)
    assert "auth-token" in first.json()
    response = client.get(lms.url(launch))
    assert response.status_code == 403
    assert "This launch link has already been used or has expired" in response.get_data(
        as_text=True
    )
    assert launch.fetches == 2
    assert lms.received() == []


def test_a_used_launch_link_opened_elsewhere_is_refused_without_a_second_fetch(
    db, lms, launched, make_client
):
    launch = lms.launch("alpha")
    learner = launched(launch)
    reload = learner.client.get(lms.url(launch))
    assert reload.status_code == 302
    assert reload.headers["Location"] == learner.session_path
    elsewhere = make_client().get(lms.url(launch))
    assert elsewhere.status_code == 403
    assert "already been used" in elsewhere.get_data(as_text=True)
    assert launch.fetches == 1
    assert lms.verbs(launch) == ["initialized"]


def test_launch_data_without_a_session_id_is_refused(client, db, lms, platform, loaded):
    launch = lms.launch("alpha")
    del launch.launch_data["contextTemplate"]["extensions"]
    response = client.get(lms.url(launch))
    assert response.status_code == 502
    assert "contextTemplate has no session id extension" in response.get_data(as_text=True)
    assert lms.received() == []
