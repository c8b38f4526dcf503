"""Real servers for the e-mail tests: Dovecot (IMAP) on a loopback port, an SMTP relay sink."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from imapclient import IMAPClient

USER = "support@hengtai.example"
PASSWORD = "imap-test-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    """A throw-away Dovecot: its own config, maildir and port; started and stopped by pid."""

    def __init__(self, tls: bool = False) -> None:
        dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not Path(dovecot).exists():
            raise RuntimeError("dovecot is not installed (scripts/install-system-deps.sh)")
        self.binary = dovecot
        self.root = Path(tempfile.mkdtemp(prefix="dc", dir="/tmp"))
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        as_root = os.geteuid() == 0
        self.user = "nobody" if as_root else pwd.getpwuid(os.geteuid()).pw_name
        entry = pwd.getpwnam(self.user)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        group = "nogroup" if as_root else str(self.gid)
        for name in ("run", "state", "mail"):
            (self.root / name).mkdir()
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        ssl_lines = "ssl = no"
        if tls:
            self_signed_certificate(self.root / "key.pem", self.root / "cert.pem")
            ssl_lines = (
                f"ssl = yes\nssl_cert = <{self.root}/cert.pem\nssl_key = <{self.root}/key.pem"
            )
        (self.root / "dovecot.conf").write_text(
            f"""base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {self.user}
default_internal_group = {group}
default_login_user = {self.user}
first_valid_uid = {self.uid}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = {self.tls_port}
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.root}/mail/%u
}}
mail_location = maildir:~/Maildir
"""
        )
        if as_root:
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, self.uid, self.gid)
        self.as_root = as_root

    def start(self) -> None:
        command = [self.binary, "-c", str(self.root / "dovecot.conf")]
        if self.as_root:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, timeout=20)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError(f"dovecot did not come up: {self.log()}")

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for message in messages:
                client.append(folder, message)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": self.port,
            "security": "none",
            "username": USER,
            "password": "env:TEST_IMAP_PASSWORD",
            "poll_seconds": 0.3,
            "idle": False,
        }
        values.update(overrides)
        return values

    def flagged(self, flag: str = "$ComplaintArchived", folder: str = "INBOX") -> tuple[int, int]:
        """(messages in folder, messages carrying `flag`)."""
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return len(client.search(["ALL"])), len(client.search(["KEYWORD", flag]))

    def count(self, folder: str) -> int:
        with self.client() as client:
            if not client.folder_exists(folder):
                return 0
            client.select_folder(folder, readonly=True)
            return len(client.search(["ALL"]))


def self_signed_certificate(key: Path, cert: Path) -> None:
    """A throw-away certificate for 127.0.0.1 (IMAPS, STARTTLS) made with openssl."""
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


@dataclass
class RelaySink:
    """A real SMTP server standing in for the outgoing relay; keeps what it was sent."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    controller: Controller | None = None
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            message_from_bytes(envelope.original_content or envelope.content, policy=default)
        )
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def start(self) -> RelaySink:
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


@pytest.fixture
def dovecot(monkeypatch: pytest.MonkeyPatch) -> Iterator[Dovecot]:
    """A real Dovecot on a free loopback port, with the account's password in the environment."""
    monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
