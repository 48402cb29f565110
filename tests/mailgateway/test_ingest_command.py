"""`manage.py ingest_email`: the MTA pipe, one JSON line per message."""

import io
import json
import sys

import pytest
from django.core.management import call_command

from tickets.models import Ticket

from .mails import MZ, PNG, fixture, mail

pytestmark = pytest.mark.django_db

KEYS = ["message_id", "action", "ticket", "department", "subject", "from", "attachments", "dropped", "error"]


def run(*args, stdin: bytes = b""):
    out = io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    try:
        call_command("ingest_email", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.stdin = old_stdin
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_prints_one_json_line_per_file_in_the_documented_format(world, tmp_path):
    first = tmp_path / "a.eml"
    first.write_bytes(
        mail(message_id="<cmd-1@customer.example>", subject="Счёт не пришёл", to="sales@helpdesk.example",
             attachments=[("scan.png", PNG, "image/png"), ("virus.png", MZ, "image/png")])
    )
    second = tmp_path / "b.eml"
    second.write_bytes(fixture("koi8r_no_charset.eml"))
    code, lines = run(str(first), str(second), str(first))
    assert code == 0
    assert [list(line) for line in lines] == [KEYS] * 3
    created, koi8, duplicate = lines
    ticket = Ticket.objects.get(subject="Счёт не пришёл")
    assert created == {
        "message_id": "cmd-1@customer.example",
        "action": "created",
        "ticket": f"#{ticket.number}",
        "department": "sales",
        "subject": "Счёт не пришёл",
        "from": "ivan@customer.example",
        "attachments": ["scan.png"],
        "dropped": [{"filename": "virus.png", "reason": created["dropped"][0]["reason"]}],
        "error": None,
    }
    assert "virus.png" in created["dropped"][0]["reason"]
    assert koi8["subject"] == "Не работает принтер" and koi8["from"] == "petr@example.ru"
    assert duplicate["action"] == "duplicate" and duplicate["ticket"] == created["ticket"]
    assert Ticket.objects.count() == 2


def test_reads_stdin_with_dash(world):
    code, lines = run("-", stdin=mail(subject="From the pipe"))
    assert code == 0 and lines[0]["action"] == "created" and lines[0]["subject"] == "From the pipe"


def test_reply_is_reported_as_appended(world):
    _, (first,) = run("-", stdin=mail(subject="First"))
    _, (second,) = run("-", stdin=mail(subject=f"Re: [{first['ticket']}] First"))
    assert second["action"] == "appended" and second["ticket"] == first["ticket"]


def test_quarantined_message_is_reported_but_exits_zero(world):
    code, (line,) = run("-", stdin=b"Subject: no sender\r\nMessage-ID: <q@x>\r\n\r\nbody\r\n")
    assert code == 0
    assert line["action"] == "quarantined" and "sender" in line["error"]


def test_exits_non_zero_only_when_input_cannot_be_stored(world, tmp_path):
    good = tmp_path / "good.eml"
    good.write_bytes(mail(subject="Fine"))
    code, lines = run(str(tmp_path / "missing.eml"), str(good))
    assert code != 0
    assert lines[0]["action"] is None and "missing.eml" in lines[0]["error"]
    assert lines[1]["action"] == "created"  # the rest of the batch goes on
    code, (empty,) = run("-", stdin=b"")
    assert code != 0 and "empty" in empty["error"]


def test_auto_reply_and_no_ticket(world):
    _, (line,) = run("-", stdin=fixture("ooo_german_subject_only.eml"))
    assert line["action"] == "ignored_autoreply" and line["ticket"] is None
