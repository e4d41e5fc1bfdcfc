"""Logs: one logfmt line per request with its id, and the same id on the
chat worker's line for the message that request sent."""

import logging
import urllib.parse
import urllib.request
import uuid

from app import logs
from tests.support.people import HTMX, client_id, two_people_with_a_chat
from tests.support.services import wait_for


def request_lines(caplog):
    formatter = logs.LogfmtFormatter("web")
    return [formatter.format(record) for record in caplog.records if record.name == "parley.requests"]


def test_a_request_line_has_its_id_and_no_query(client, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/signin?code=123456&token=secret", headers={"X-Request-ID": "router-id-1"})
    assert response.headers["X-Request-ID"] == "router-id-1"
    [line] = request_lines(caplog)
    assert line.startswith("level=info process=web logger=parley.requests request_id=router-id-1 ")
    assert "method=GET path=/signin status=200 duration_ms=" in line
    assert "123456" not in line and "secret" not in line


def test_a_request_without_a_sane_id_gets_one(client, caplog):
    caplog.set_level(logging.INFO)
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz", headers={"X-Request-ID": "no spaces or = signs"}).headers["X-Request-ID"]
    assert len({first, second}) == 2 and all(logs.REQUEST_ID.match(given) for given in (first, second))
    assert [f"request_id={first} " in line for line in request_lines(caplog)][0]


def test_a_line_is_one_line_whatever_it_holds():
    line = logs.logfmt({"msg": 'two\nlines "quoted"', "n": 1.25, "none": None})
    assert line == 'msg="two\\nlines \\"quoted\\"" n=1.2'


def test_the_chat_worker_line_for_a_message_carries_the_request_id(ns_app, namespace, processes):
    processes.env.update(namespace)
    web = processes.web()
    worker = processes.worker("chat")
    pair = two_people_with_a_chat(ns_app)
    page = pair.alice.get(pair.url).get_data(as_text=True)
    request_id = uuid.uuid4().hex
    text = "a message that must never be logged"
    form = {"client_id": client_id(page), "text": text, "csrf_token": pair.alice.token}
    cookies = "; ".join(f"{name}={value}" for name, value in pair.alice.cookies.items())
    request = urllib.request.Request(
        web.url + pair.url + "/messages",
        data=urllib.parse.urlencode(form).encode(),
        headers={**HTMX, "Cookie": cookies, "X-Request-ID": request_id, "Origin": web.url},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200 and response.headers["X-Request-ID"] == request_id
    web_line = wait_for(lambda: [line for line in web.output().splitlines() if request_id in line], what="web line")
    assert f"method=POST path={pair.url}/messages status=200" in web_line[0]
    worker_line = wait_for(
        lambda: [line for line in worker.output().splitlines() if request_id in line], what="the worker's line"
    )
    assert worker_line[0].startswith("level=info process=chat_worker logger=app.chats.sending.delivery ")
    assert 'msg="delivered a batch"' in worker_line[0] and "jobs=1" in worker_line[0]
    for output in (web.output(), worker.output()):
        assert text not in output and pair.alice.token not in output
        assert all(value not in output for value in pair.alice.cookies.values())
