"""Every message of the shared real-world corpus through the whole pipeline (store -> process).

The parser's own expectations are checked in test_corpus.py; here the gateway must store and apply
every message without a crash (never quarantined), and where the corpus states expected values the
ticket, sender and attachment names must match. The summary test prints how many matched.
"""

import pytest

from mailgateway.models import InboundEmail
from tickets.models import Attachment

from .test_corpus import CORPUS, SKIP_REASON, SUBJECT_OVERRIDES, _load_zammad, _raw_files, squeeze

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(CORPUS is None, reason=SKIP_REASON)]

FILES = _raw_files()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_message_is_ingested_without_crash(world, ingest, path):
    row = ingest(path.read_bytes())
    assert row.status in ("processed", "held"), row.error
    assert row.action in ("created", "appended", "ignored_autoreply", "bounce")
    if row.action == "created":
        message = row.message
        assert message.ticket.customer.email == row.from_email.lower()
        stored = sorted(Attachment.objects.filter(message=message).values_list("filename", flat=True))
        assert stored == sorted(row.attachments)
        assert not (set(row.attachments) & {d["filename"] for d in row.dropped})


def test_corpus_expectations_summary(world, ingest, capsys):
    """Subject and sender of the stored ticket match the parse for every corpus mail that made one."""
    from mailgateway.parsing import parse

    checked = matched = 0
    for path in FILES:
        raw = path.read_bytes()
        row = ingest(raw)
        if row.action != "created":
            continue
        parsed = parse(raw)
        checked += 1
        ticket = row.ticket
        matched += (ticket.subject == (parsed.subject.strip() or "(no subject)")[:255]) and (
            ticket.customer.email == parsed.from_email.lower()
        )
    with capsys.disabled():
        print(f"\ncorpus pipeline: {matched}/{checked} tickets match subject and sender; "
              f"{InboundEmail.objects.count()} messages stored, "
              f"{InboundEmail.objects.filter(status='quarantined').count()} quarantined")
    assert checked and matched == checked


def _zammad_checks(row, want: dict, name: str) -> dict[str, bool]:
    """Zammad's expected values against what the pipeline stored (ticket, customer, message, files)."""
    expected_files = sorted(
        a["filename"] for a in want.get("attachments") or [] if not a["preferences"].get("content-alternative")
    )
    body = "" if want["body"] == "no visible content" else want["body"]
    message = row.message
    stored_body = (message.body_html or message.body_text) if message else ""
    if row.action in ("bounce", "ignored_autoreply"):
        # By design a bounce (mail033) is recorded as an event on its ticket, not stored as a message.
        files_ok = row.message is None and row.attachments == []
    else:
        files_ok = sorted(row.attachments + [d["filename"] for d in row.dropped]) == expected_files
    return {
        "subject": row.subject == SUBJECT_OVERRIDES.get(name, want["subject"]),
        "from": row.from_email == want["from_email"].lower(),
        # every attachment is accounted for: stored, or dropped with a reason noted in the message
        "attachments": files_ok,
        "body": message is None or squeeze(body) in squeeze(stored_body),
    }


def test_corpus_zammad_expectations_through_the_pipeline(world, ingest, capsys):
    results = {}
    for yml in sorted((CORPUS / "zammad").glob("*.yml")):
        name = yml.stem.split("-", 1)[0]
        row = ingest(yml.with_suffix(".box").read_bytes())
        for check, ok in _zammad_checks(row, _load_zammad(yml), name).items():
            results[f"{name}:{check}"] = ok
    matched = sum(results.values())
    with capsys.disabled():
        print(f"\ncorpus pipeline (zammad expectations on stored tickets): {matched}/{len(results)} match")
        for key, ok in results.items():
            if not ok:
                print(f"corpus pipeline mismatch: {key}")
    assert matched == len(results)
