"""A real IMAP server for the tests: Debian's dovecot, run in the foreground from
a configuration in a temporary directory (plain login from a passwd-file, on
127.0.0.1 and a free port, maildir in the same directory, no TLS).

As root, dovecot's login processes must run as another user: the package's
``dovenull`` and ``dovecot`` users are used, and the mail belongs to
``dovecot``. As anybody else, everything runs as that user.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

USER, PASSWORD = "casemgr", "s3cret-imap-password"


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot") or "/usr/sbin/dovecot"
    return found if os.path.exists(found) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class Dovecot:
    def __init__(self, binary: str, *, tls: tuple[Path, Path] | None = None) -> None:
        """``tls``: (certificate, key) PEM files; then port ``tls_port`` is IMAPS and
        ``port`` offers STARTTLS (plain login is refused there before it)."""
        self.binary = binary
        self.tls = tls
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.root = Path(tempfile.mkdtemp(prefix="casemgr-dovecot-"))
        self.root.chmod(0o755)  # dovecot's own users walk through it
        self.process: subprocess.Popen | None = None
        self._configure()

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX?security=none"

    def _configure(self) -> None:
        if os.geteuid() == 0:
            login_user, internal_user = "dovenull", "dovecot"
            owner = pwd.getpwnam("dovecot")
            uid, gid = owner.pw_uid, owner.pw_gid
        else:
            login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
            uid, gid = os.geteuid(), os.getegid()
        group = grp.getgrgid(gid).gr_name
        mail = self.root / "mail"
        mail.mkdir()
        os.chown(mail, uid, gid)
        (self.root / "run").mkdir()
        (self.root / "passwd").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{mail}/{USER}\n"
        )
        if self.tls:
            ssl = f"ssl = required\nssl_cert = <{self.tls[0]}\nssl_key = <{self.tls[1]}"
        else:
            ssl = "ssl = no\ndisable_plaintext_auth = no"
        (self.root / "dovecot.conf").write_text(
            f"""base_dir = {self.root}/run
state_dir = {self.root}/run
instance_name = casemgr-test-{self.port}
protocols = imap
listen = 127.0.0.1
{ssl}
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {group}
log_path = {self.root}/dovecot.log
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {self.root}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""
        )

    def start(self) -> Dovecot:
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def stop(self) -> None:
        """Stop the server we started (its master process, by its id)."""
        process, self.process = self.process, None
        if process is None:
            return
        # Its children (imap, auth, ...) outlive a master killed by a signal: each
        # is stopped too, by its id, so that open connections drop as in a crash.
        children = _children(process.pid)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the port is free again
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                return

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client(self) -> imaplib.IMAP4:
        if self.tls:
            import ssl

            context = ssl.create_default_context(cafile=str(self.tls[0]))
            connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                "127.0.0.1", self.tls_port, ssl_context=context, timeout=10
            )
        else:
            connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.login(USER, PASSWORD)
        connection.select("INBOX")
        return connection

    def deliver(self, *messages: bytes) -> None:
        """Put messages in the mailbox, unseen (IMAP APPEND)."""
        connection = self.client()
        try:
            for raw in messages:
                status, detail = connection.append("INBOX", None, None, raw)
                assert status == "OK", detail
        finally:
            connection.logout()

    def seen(self) -> tuple[int, int]:
        """(messages, of which seen)."""
        connection = self.client()
        try:
            _, everything = connection.uid("SEARCH", None, "ALL")
            _, seen = connection.uid("SEARCH", None, "SEEN")
        finally:
            connection.logout()
        return len(everything[0].split()), len(seen[0].split())
