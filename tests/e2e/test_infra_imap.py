"""The private Dovecot instance speaks real IMAP and IMAPS with stable UIDs."""

import imaplib
import re
import ssl

import pytest

pytestmark = pytest.mark.e2e


def _mail(n: int) -> bytes:
    return (
        f"From: customer{n}@example.org\r\nTo: support@helpdesk.test\r\n"
        f"Subject: Problem {n}\r\nMessage-ID: <m{n}@example.org>\r\n\r\nBody {n}\r\n"
    ).encode()


def test_append_fetch_by_uid_mark_seen_and_stable_uidvalidity(imap_server, imap_user):
    user, _password = imap_user
    uids = [imap_server.append(user, _mail(n)) for n in (1, 2, 3)]
    validity = imap_server.uidvalidity(user)

    assert imap_server.list_uids(user) == uids
    with imap_server.session(user) as client:
        status, data = client.uid("FETCH", str(uids[1]), "(BODY.PEEK[])")
        assert status == "OK"
        assert b"Subject: Problem 2" in data[0][1]
        status, _ = client.uid("STORE", str(uids[1]), "+FLAGS", "(\\Seen)")
        assert status == "OK"

    assert "\\Seen" in imap_server.flags(user, uids[1])
    assert "\\Seen" not in imap_server.flags(user, uids[0])
    imap_server.restart()
    assert imap_server.uidvalidity(user) == validity
    assert imap_server.list_uids(user) == uids


def test_append_with_flags_and_empty_mailbox(imap_server, imap_user):
    user, _ = imap_user
    assert imap_server.list_uids(user) == []

    uid = imap_server.append(user, _mail(1), flags=("\\Seen", "\\Flagged"))

    assert {"\\Seen", "\\Flagged"} <= imap_server.flags(user, uid)


def test_imaps_with_self_signed_certificate(imap_server, imap_user):
    user, password = imap_user
    uid = imap_server.append(user, _mail(7))

    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(imap_server.host, imap_server.ssl_port, ssl_context=ssl.create_default_context())
    with imap_server.session(user, use_ssl=True) as client:
        assert client.sock.version().startswith("TLS")
        status, data = client.uid("FETCH", str(uid), "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    assert status == "OK"
    assert re.search(rb"<m7@example.org>", data[0][1])


def test_wrong_password_is_refused(imap_server, imap_user):
    user, _ = imap_user
    client = imaplib.IMAP4(imap_server.host, imap_server.port, timeout=10)
    with pytest.raises(imaplib.IMAP4.error):
        client.login(user, "wrong")
    client.logout()


def test_starttls_on_the_plain_port(imap_server, imap_user):
    from tests.e2e.servers import unverified_ssl_context

    user, password = imap_user
    client = imaplib.IMAP4(imap_server.host, imap_server.port, timeout=10)
    assert "STARTTLS" in client.capabilities
    client.starttls(ssl_context=unverified_ssl_context())
    assert client.login(user, password)[0] == "OK"
    client.logout()
