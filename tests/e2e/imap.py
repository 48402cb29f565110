"""A throwaway Dovecot IMAP(S) instance with its own config, users and maildirs in a temp dir."""

from __future__ import annotations

import imaplib
import os
import pwd
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._net import LOOPBACK, free_port, tail, wait_for_ports

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")  # also a file name, see _config
_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")


def dovecot_available() -> bool:
    return Path(DOVECOT).exists()


def unverified_ssl_context() -> ssl.SSLContext:
    """Client context for the self-signed test certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _process_users() -> tuple[str, str, str]:
    """(internal user, login user, mail user) that Dovecot accepts for the current euid.

    Dovecot refuses to run mail processes as uid 0 ("userdb returned 0 as uid"), so as root
    the maildirs belong to Debian's ``mail`` user and the helper processes run as the
    ``dovecot``/``dovenull`` users the package creates. As a normal user everything runs as
    that user (Dovecot cannot switch uids then anyway).
    """
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, me
    return "dovecot", "dovenull", "mail"


def _config(base: Path, *, port: int, ssl_port: int | None, users: tuple[str, str, str]) -> str:
    internal, login, mail = users
    lines = [
        f"base_dir = {base}/run",
        f"state_dir = {base}/state",
        f"instance_name = e2e-{base.name}",
        "protocols = imap",
        f"listen = {LOOPBACK}",
        f"log_path = {base}/dovecot.log",
        f"info_log_path = {base}/dovecot.log",
        "disable_plaintext_auth = no",
        "auth_mechanisms = plain login",
        "auth_cache_size = 0",
        f"default_internal_user = {internal}",
        f"default_login_user = {login}",
        "first_valid_uid = 1",
        f"mail_uid = {mail}",
        f"mail_gid = {pwd.getpwnam(mail).pw_gid}",
        f"mail_location = maildir:{base}/mail/%u",
        "mail_fsync = never",
        # One passwd-file per user: Dovecot re-reads a changed passwd-file at most once a second,
        # so a single shared file would hide users added right after a login.
        f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {base}/passwd.d/%u\n}}",
        f"userdb {{\n  driver = static\n  args = uid={mail} gid={pwd.getpwnam(mail).pw_gid} home={base}/mail/%u\n}}",
    ]
    listeners = f"  inet_listener imap {{\n    address = {LOOPBACK}\n    port = {port}\n  }}\n"
    if ssl_port is None:
        lines.append("ssl = no")
    else:
        lines += ["ssl = yes", f"ssl_cert = <{base}/cert.pem", f"ssl_key = <{base}/key.pem", "ssl_dh ="]
        listeners += f"  inet_listener imaps {{\n    address = {LOOPBACK}\n    port = {ssl_port}\n    ssl = yes\n  }}\n"
    lines.append("service imap-login {\n" + listeners + "}")
    return "\n".join(lines) + "\n"


def _self_signed_cert(base: Path) -> None:
    # A P-256 key is generated in milliseconds, unlike RSA.
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(base / "key.pem"),
            "-out",
            str(base / "cert.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )


class DovecotServer:
    """One Dovecot master process; users are passwd-files (one per user) under ``passwd.d``."""

    def __init__(self, base: Path, *, with_ssl: bool = True) -> None:
        self.base = base
        self.host = LOOPBACK
        self.with_ssl = with_ssl
        self.port = 0
        self.ssl_port: int | None = None
        self.log_path = base / "dovecot.log"
        self.config_path = base / "dovecot.conf"
        self.users: dict[str, str] = {}
        self._proc: subprocess.Popen | None = None
        self._prepare()

    def _prepare(self) -> None:
        users = _process_users()
        # mkdtemp makes a 0700 dir; Dovecot's unprivileged processes must traverse it.
        self.base.chmod(0o755)
        for sub in ("run", "state", "mail"):
            (self.base / sub).mkdir(exist_ok=True)
        shutil.chown(self.base / "mail", user=users[2], group=pwd.getpwnam(users[2]).pw_gid)
        (self.base / "passwd.d").mkdir(exist_ok=True)
        if self.with_ssl:
            _self_signed_cert(self.base)
        self.choose_ports()

    def choose_ports(self) -> None:
        """Pick fresh free ports and rewrite the config (used to retry after a bind race)."""
        self.port = free_port()
        self.ssl_port = free_port() if self.with_ssl else None
        config = _config(self.base, port=self.port, ssl_port=self.ssl_port, users=_process_users())
        self.config_path.write_text(config)

    # --- process control -------------------------------------------------------------------
    def start(self, timeout: float = 20) -> None:
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        ports = [self.port] + ([self.ssl_port] if self.ssl_port else [])
        try:
            wait_for_ports(self._proc, self.host, ports, timeout=timeout, log=self.log_path)
        except Exception:
            self.stop()
            raise

    def stop(self, timeout: float = 10) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # the master shuts its children down on SIGTERM
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def restart(self) -> None:
        """Stop and start on the same ports; mailboxes (and their UIDVALIDITY) survive."""
        self.stop()
        self.start()

    def log_tail(self, lines: int = 60) -> str:
        return tail(self.log_path, lines)

    # --- users and mail --------------------------------------------------------------------
    def add_user(self, name: str, password: str) -> None:
        if not _USERNAME.fullmatch(name) or ":" in password or "\n" in password:
            raise ValueError(f"unsupported IMAP test user name or password: {name!r}")
        if name in self.users:
            raise ValueError(f"IMAP user {name!r} already exists")
        self.users[name] = password
        (self.base / "passwd.d" / name).write_text(f"{name}:{{PLAIN}}{password}::::::\n")

    def connect(self, user: str, *, use_ssl: bool = False) -> imaplib.IMAP4:
        """A logged-in imaplib client; the caller logs out (or use ``session``)."""
        if use_ssl:
            if self.ssl_port is None:
                raise RuntimeError("this server was started without IMAPS")
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                self.host, self.ssl_port, ssl_context=unverified_ssl_context(), timeout=10
            )
        else:
            client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(user, self.users[user])
        return client

    @contextmanager
    def session(self, user: str, mailbox: str = "INBOX", *, use_ssl: bool = False) -> Iterator[imaplib.IMAP4]:
        client = self.connect(user, use_ssl=use_ssl)
        try:
            _ok(client.select(_quote(mailbox)))
            yield client
        finally:
            client.logout()

    def append(self, user: str, raw: bytes, flags: tuple[str, ...] = (), mailbox: str = "INBOX") -> int:
        """Deliver ``raw`` into ``mailbox`` via IMAP APPEND; returns the new UID.

        imaplib normalises line endings to CRLF, as any real delivery agent would.
        """
        client = self.connect(user)
        try:
            flag_list = "(" + " ".join(flags) + ")" if flags else None
            data = _ok(client.append(_quote(mailbox), flag_list, None, raw))
        finally:
            client.logout()
        match = _APPENDUID.search(data[0])
        if not match:
            raise RuntimeError(f"no APPENDUID in {data!r}")
        return int(match.group(2))

    def create_mailbox(self, user: str, mailbox: str) -> None:
        client = self.connect(user)
        try:
            _ok(client.create(_quote(mailbox)))
        finally:
            client.logout()

    def list_uids(self, user: str, mailbox: str = "INBOX") -> list[int]:
        with self.session(user, mailbox) as client:
            data = _ok(client.uid("SEARCH", None, "ALL"))
        return [int(uid) for uid in data[0].split()]

    def flags(self, user: str, uid: int, mailbox: str = "INBOX") -> set[str]:
        with self.session(user, mailbox) as client:
            data = _ok(client.uid("FETCH", str(uid), "(FLAGS)"))
        match = _FLAGS.search(data[0] or b"")
        if not match:
            raise KeyError(f"UID {uid} not found in {user}/{mailbox}")
        return set(match.group(1).decode().split())

    def uidvalidity(self, user: str, mailbox: str = "INBOX") -> int:
        client = self.connect(user)
        try:
            data = _ok(client.status(_quote(mailbox), "(UIDVALIDITY)"))
        finally:
            client.logout()
        return int(_UIDVALIDITY.search(data[0]).group(1))


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(response: tuple[str, list]) -> list:
    status, data = response
    if status != "OK":
        raise imaplib.IMAP4.error(f"{status}: {data!r}")
    return data


@contextmanager
def dovecot_server(*, with_ssl: bool = True) -> Iterator[DovecotServer]:
    """Start a private Dovecot for the block; everything lives in (and is removed with) a temp dir."""
    base = Path(tempfile.mkdtemp(prefix="e2e-dovecot-"))
    server = DovecotServer(base, with_ssl=with_ssl)
    try:
        _start_with_retries(server)
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _start_with_retries(server: DovecotServer, attempts: int = 3) -> None:
    for attempt in range(attempts):
        try:
            server.start()
            return
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            server.choose_ports()  # most likely another process grabbed a port first
