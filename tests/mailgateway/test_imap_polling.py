"""IMAP polling against a real Dovecot on loopback (tests/e2e fixtures)."""

import pytest

from mailgateway import imap
from mailgateway.models import InboundEmail, Mailbox
from tickets.models import Ticket

from .mails import mail

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


@pytest.fixture
def mailbox_for(imap_server, monkeypatch, world):
    def make(user, password, *, name="Support box", ssl=False, department=None):
        env = f"IMAP_TEST_{name.upper().replace(' ', '_')}_PASSWORD"
        monkeypatch.setenv(env, password)
        return Mailbox.objects.create(
            name=name,
            host=imap_server.host,
            port=imap_server.ssl_port if ssl else imap_server.port,
            security=Mailbox.Security.IMAPS if ssl else Mailbox.Security.PLAIN,
            verify_tls=False,  # the fixture's certificate is self-signed
            username=user,
            password_env=env,
            department=department,
        )

    return make


@pytest.fixture
def poll(django_capture_on_commit_callbacks):
    def run(mailbox):
        with django_capture_on_commit_callbacks(execute=True):  # the queued processing tasks run eagerly
            return imap.poll(mailbox.pk)

    return run


def test_poll_fetches_by_uid_including_already_read_mail_and_flags_after_storing(imap_server, imap_user, mailbox_for, poll):
    user, password = imap_user
    uid_unread = imap_server.append(user, mail(subject="Unread one"))
    uid_read = imap_server.append(user, mail(subject="Read in Thunderbird"), flags=("\\Seen",))
    box = mailbox_for(user, password)
    assert poll(box) == "ok"
    assert set(Ticket.objects.values_list("subject", flat=True)) == {"Unread one", "Read in Thunderbird"}
    assert "\\Seen" in imap_server.flags(user, uid_unread)
    box.refresh_from_db()
    assert box.last_uid == max(uid_unread, uid_read) and box.uidvalidity == imap_server.uidvalidity(user)
    assert box.last_success_at is not None and box.consecutive_failures == 0 and box.backlog == 0
    assert InboundEmail.objects.filter(mailbox=box, source=f"imap:{box.pk}").count() == 2


def test_second_poll_fetches_only_new_mail(imap_server, imap_user, mailbox_for, poll):
    user, password = imap_user
    imap_server.append(user, mail(subject="First"))
    box = mailbox_for(user, password)
    poll(box)
    # Someone marks everything unread again in his mail client: UIDs, not flags, decide.
    with imap_server.session(user) as client:
        client.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")
    poll(box)
    assert InboundEmail.objects.count() == 1
    imap_server.append(user, mail(subject="Second"))
    poll(box)
    assert InboundEmail.objects.count() == 2 and Ticket.objects.count() == 2


def test_uidvalidity_change_resyncs_without_duplicates(imap_server, imap_user, mailbox_for, poll):
    user, password = imap_user
    imap_server.append(user, mail(subject="Before"))
    box = mailbox_for(user, password)
    poll(box)
    # The server renumbered the folder (restored from backup, migrated): our UIDs mean nothing.
    Mailbox.objects.filter(pk=box.pk).update(uidvalidity=1, last_uid=999)
    imap_server.append(user, mail(subject="After"))
    box.refresh_from_db()
    assert poll(box) == "ok"
    box.refresh_from_db()
    assert box.uidvalidity == imap_server.uidvalidity(user) and box.last_uid == max(imap_server.list_uids(user))
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["After", "Before"]


def test_a_failing_mailbox_does_not_stop_the_others(imap_server, imap_user, mailbox_for, django_capture_on_commit_callbacks):
    user, password = imap_user
    imap_server.append(user, mail(subject="Still arrives"))
    broken = mailbox_for(user, "wrong-password", name="A broken")
    good = mailbox_for(user, password, name="B good")
    with django_capture_on_commit_callbacks(execute=True):
        results = imap.poll_all()
    assert results == {broken.pk: "failed", good.pk: "ok"}
    broken.refresh_from_db()
    assert broken.consecutive_failures == 1 and "AUTHENTICATIONFAILED" in broken.last_error.upper()
    assert Ticket.objects.get().subject == "Still arrives"


def test_polls_of_one_mailbox_never_overlap(imap_server, imap_user, mailbox_for):
    user, password = imap_user
    box = mailbox_for(user, password)
    assert imap._take_lease(box.pk)  # another worker is polling this mailbox right now
    assert imap.poll(box.pk) == "busy"
    Mailbox.objects.filter(pk=box.pk).update(poll_lease_until=None)
    assert imap.poll(box.pk) == "ok"


def test_imaps_and_default_department(imap_server, imap_user, mailbox_for, poll, world):
    user, password = imap_user
    imap_server.append(user, mail(subject="Over TLS", to="someone@unknown.example"))
    box = mailbox_for(user, password, ssl=True, department=world.sales)
    assert poll(box) == "ok"
    assert Ticket.objects.get().department == world.sales


def test_mail_is_fetched_and_stored_in_chunks_by_count_and_size(imap_server, imap_user, mailbox_for, poll, settings):
    """One FETCH and one commit per chunk; every mail arrives once, in order, and is flagged."""
    user, password = imap_user
    settings.HELPDESK_INBOUND_BATCH = 3
    uids = [imap_server.append(user, mail(subject=f"Chunked {i}")) for i in range(7)]
    big = imap_server.append(user, mail(subject="Large one", body="x" * 40_000))
    uids.append(big)
    box = mailbox_for(user, password)
    settings.HELPDESK_INBOUND_BATCH_BYTES = 30_000  # the large mail goes alone, in a chunk of its own
    assert [len(c) for c in _chunks_of(imap_server, user, uids)] == [3, 3, 1, 1]
    assert poll(box) == "ok"
    subjects = list(InboundEmail.objects.order_by("pk").values_list("subject", flat=True))
    assert subjects == [f"Chunked {i}" for i in range(7)] + ["Large one"]
    assert Ticket.objects.count() == 8
    assert all("\\Seen" in imap_server.flags(user, uid) for uid in uids)
    box.refresh_from_db()
    assert box.last_uid == big and box.backlog == 0


def _chunks_of(imap_server, user, uids):
    with imap_server.session(user) as client:
        return imap._chunks(client, uids)


def test_a_chunk_that_cannot_be_stored_is_neither_flagged_nor_skipped(imap_server, imap_user, mailbox_for, poll, monkeypatch):
    """The database fails while the chunk is stored: nothing of it is kept, nothing is flagged,
    last_uid stays, and the next poll stores all of it."""
    from mailgateway import services

    user, password = imap_user
    uids = [imap_server.append(user, mail(subject=f"Keep me {i}")) for i in range(3)]
    box = mailbox_for(user, password)
    real_insert = services.insert_many_unless_exist

    def database_gone(rows, conflict):
        raise services.OperationalError("the database went away")

    monkeypatch.setattr(services, "insert_many_unless_exist", database_gone)
    assert poll(box) == "failed"
    assert InboundEmail.objects.count() == 0
    assert not any("\\Seen" in imap_server.flags(user, uid) for uid in uids)
    box.refresh_from_db()
    assert box.last_uid == 0 and "database went away" in box.last_error
    monkeypatch.setattr(services, "insert_many_unless_exist", real_insert)
    assert poll(box) == "ok"
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [f"Keep me {i}" for i in range(3)]
    assert all("\\Seen" in imap_server.flags(user, uid) for uid in uids)


def test_uid_sets_are_written_as_ranges():
    assert imap._uid_set([1, 2, 3, 5, 7, 8]) == "1:3,5,7:8"
    assert imap._uid_set([4]) == "4"
