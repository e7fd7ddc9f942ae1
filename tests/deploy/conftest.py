"""The deployed set-up (tests/deploy/harness.py) for the tests of this folder: one per module, with
the demo ICS, the people of the tests and an open workshop, and Debian's chromium to drive it."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest


from .harness import NGINX, Deployment

FACILITATOR = "fran.facilitator@nhs.net"
# (sign-in e-mail, the name the group sees, role): PCN members of Saltmarsh Coast, who may join.
PARTICIPANTS = (("asha.patel@nhs.net", "Asha Patel", "Clinical director"),
                ("ben.okoro@nhs.net", "Ben Okoro", "Social care"))
PCN = "U99005"  # Saltmarsh Coast in the demo


@dataclass
class Workshop:
    id: int = 0
    code: str = ""


def load_people(database_url: str, workshop: Workshop) -> None:
    """The demo ICS, a facilitator, the participants as PCN members, and an open workshop."""
    from assessments import people
    from assessments import workshop as ws
    from assessments.demo import load_demo
    from assessments.store import Store
    from assessments.values import financial_year

    logging.disable(logging.INFO)  # the operator's log would print a line per demo row
    try:
        store = Store(database_url)
        try:
            load_demo(store)
            people.grant(store, FACILITATOR, "ics-facilitator", ics_code="QZZ", by="test set-up")
            for email, _name, _role in PARTICIPANTS:
                people.grant(store, email, "pcn-member", pcn_code=PCN, by="test set-up")
            w = ws.open_workshop(store, PCN, financial_year(), by="test set-up")
            workshop.id, workshop.code = w.id, w.code
        finally:
            store.close()
    finally:
        logging.disable(logging.NOTSET)


@pytest.fixture(scope="module")
def workshop() -> Workshop:
    return Workshop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, workshop):
    if not Path(NGINX).exists():
        pytest.fail(f"{NGINX} not found: run the README's test command, which installs Debian's nginx "
                    "(or `apt-get install -y nginx`).", pytrace=False)
    with Deployment(tmp_path_factory.mktemp("deploy"), setup=lambda url: load_people(url, workshop)) as d:
        yield d

