"""What a page costs a client's query budget (issue 20: in the 300k sweep a reader opening pages
one after another got 429s, because the time its pages waited for a place was charged as if
they ran, cached answers were refused with the rest, and the server's own warming of the
landing pages was charged to the loopback client). The abuse protections stay: a client that
spent its budget still gets 429 for new pages and queries."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

from flask import Flask

from kb import KnowledgeBase
from tests.webui.conftest import IRAN
from webui import create_app
from webui.warm import Warmer

BROWSER = {"Accept": "text/html"}
LOCAL = "127.0.0.1"  # the test client's address


def test_time_spent_waiting_for_a_place_is_not_charged(mini_kb: KnowledgeBase) -> None:
    app = create_app({"KB": mini_kb, "TESTING": True, "PAGES_PER_CLIENT": 1, "QUERY_BUDGET": 2.0})
    admission = app.extensions["ckb.admission"]
    admission.enter_page(LOCAL, time.monotonic() + 30)  # the client's one place, taken
    answers: list[int] = []
    waiting = threading.Thread(target=lambda: answers.append(app.test_client().get("/?n=1").status_code))
    waiting.start()
    time.sleep(3.0)  # it waits for the place: no work done for it
    admission.leave_page(LOCAL, 0.0)
    waiting.join(30)
    assert answers == [200]
    # It ran for a moment: the 3 s it waited are not taken from the 2 s budget.
    assert app.test_client().get("/?n=2").status_code == 200


def test_a_client_past_its_budget_gets_cached_pages_but_no_new_work(mini_kb: KnowledgeBase) -> None:
    app = create_app({"KB": mini_kb, "TESTING": True})
    web = app.test_client()
    entity = "/entity?iri=" + quote(IRAN, safe="")
    assert web.get(entity, headers=BROWSER).status_code == 200  # now in the page cache
    app.extensions["ckb.admission"].budget.charge(LOCAL, 1000.0)  # a client that spent it all
    cache = app.extensions["ckb.pagecache"]
    hits = cache.hits
    assert web.get(entity, headers=BROWSER).status_code == 200
    assert cache.hits == hits + 1
    new = web.get("/?n=3")
    assert new.status_code == 429 and int(new.headers["Retry-After"]) >= 1
    assert web.get("/sparql", query_string={"query": "ASK {}", "format": "json"}).status_code == 429
    other = {"REMOTE_ADDR": "127.0.0.9"}
    assert web.get("/?n=3", environ_base=other).status_code == 200  # budgets are per client


def test_the_servers_own_warming_is_no_clients_spending(mini_kb: KnowledgeBase) -> None:
    app: Flask = create_app({"KB": mini_kb, "TESTING": True})
    admission, cache = app.extensions["ckb.admission"], app.extensions["ckb.pagecache"]
    admission.budget.charge(LOCAL, 1000.0)  # a browser on the server's machine spent its budget
    paths = ("/claims?sort=date", "/claims?anonymity=anonymous&sort=date")
    Warmer(app, mini_kb.generation, paths).warm_once()
    hits = cache.hits
    for path in paths:  # built ahead all the same: another client gets them from the cache
        assert app.test_client().get(path, headers=BROWSER, environ_base={"REMOTE_ADDR": "10.0.0.9"}
                                     ).status_code == 200
    assert cache.hits == hits + len(paths)
    assert admission.budget._balance(LOCAL, time.monotonic()) < -900  # and nothing was charged
