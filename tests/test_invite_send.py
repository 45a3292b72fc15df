"""`peerloop invite NAME --send` (and --eml, --dry-run): real iMIP e-mails through a local SMTP server and a
sendmail-compatible script, read back with the standard library, icalendar and the strict `ical` parser;
an update and a cancellation follow the first send; no journal text ever leaves."""

from __future__ import annotations

import email
import email.policy
import json
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
from ical.calendar_stream import IcsCalendarStream

from tests.conftest import Invoke
from tests.mailserver import make_certificate, smtp_server

pytestmark = pytest.mark.slow  # real SMTP servers and mail commands

SECRET = "zz-private-journal-text-zz"
PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")


@pytest.fixture
def lived_in(cli: Invoke, set_up: Callable[..., None], at: Callable[[str], None]) -> None:
    """Dana with an e-mail, Ann with one, and the secret in every private field of the journal and roster."""
    set_up(*PEERS)
    for args in (["init", "--email", "dana@example.com"], ["edit", "Ann Lee", "--email", "ann@example.com", "--note", SECRET],
                 ["log", "Bo Chen", "--date", "2026-03-02", "--issue", SECRET, "--win", SECRET, "--works", SECRET,
                  "--improve", SECRET, "--follow-up", SECRET, "--note", SECRET],
                 ["reflect", "--why", SECRET, "--excuse", SECRET, "--ceo", SECRET, "--purpose", SECRET]):  # fmt: skip
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)


def parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def calendar_of(message: EmailMessage) -> tuple[str, icalendar.Calendar]:
    parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    text = parts[0].get_content()
    IcsCalendarStream.calendar_from_ics(text)  # the strict parser accepts it
    return parts[0].get_param("method"), icalendar.Calendar.from_ical(text)


def check_request(message: EmailMessage, sequence: int | None = None) -> str:
    assert message.get_content_type() == "multipart/mixed"
    alternative = message.get_payload()[0]
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/calendar"]
    attachment = message.get_payload()[1]
    assert attachment["Content-Transfer-Encoding"] == "base64"
    assert message["From"].addresses[0].addr_spec == "dana@example.com"
    assert message["To"].addresses[0].addr_spec == "ann@example.com"
    method, cal = calendar_of(message)
    assert method == "REQUEST"
    assert cal["METHOD"] == "REQUEST"
    [event] = cal.walk("VEVENT")
    assert str(event["ORGANIZER"]).lower() == "mailto:dana@example.com"
    attendee = event["ATTENDEE"]
    assert str(attendee).lower() == "mailto:ann@example.com"
    assert attendee.params["RSVP"] == "TRUE"
    if sequence is not None:
        assert int(event["SEQUENCE"]) == sequence
    return str(event["UID"])


def test_send_through_smtp_then_an_update_then_a_cancellation(
    cli: Invoke, lived_in: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificate = make_certificate(tmp_path)
    monkeypatch.setenv("MAIL_PASSWORD", "s3cret-pw")
    with smtp_server(certificate=certificate, login=("dana", "s3cret-pw")) as server:
        connected = cli("connect", "smtp", "127.0.0.1", "--port", str(server.port), "--user", "dana",
                        "--password-env", "MAIL_PASSWORD", "--ca-file", str(certificate.cert))  # fmt: skip
        assert connected.exit_code == 0, connected.output
        first = cli("invite", "ann", "--send")
        assert first.exit_code == 0, first.output
        assert "Sent the invitation to Ann Lee <ann@example.com>" in first.stdout
        assert "Invites   sent to Ann Lee; all current" in cli("status").stdout
        assert cli("pause", "Bo Chen", "--until", "2026-04-20").exit_code == 0  # the rotation moves Ann
        assert "out of date: Ann Lee" in cli("status").stdout
        assert json.loads(cli("status", "--json").stdout)["invitations"] == {
            "sent": ["Ann Lee"],
            "out_of_date": ["Ann Lee"],
        }
        update = cli("invite", "ann", "--send")
        assert update.exit_code == 0, update.output
        removed = cli("remove", "ann", "--yes", "--send-cancel")
        assert removed.exit_code == 0, removed.output
        assert "Sent Ann Lee a cancellation of our peer meetings" in removed.stdout
    messages = [parsed(received.content) for received in server.received]
    assert len(messages) == 3
    uid = check_request(messages[0])
    assert check_request(messages[1]) == uid
    assert messages[1]["Subject"].startswith("Updated: ")
    first_sequence = int(calendar_of(messages[0])[1].walk("VEVENT")[0]["SEQUENCE"])
    assert int(calendar_of(messages[1])[1].walk("VEVENT")[0]["SEQUENCE"]) > first_sequence
    method, cancel = calendar_of(messages[2])
    assert method == "CANCEL"
    assert [str(e["UID"]) for e in cancel.walk("VEVENT")] == [uid]
    for received in server.received:
        assert SECRET.encode() not in received.content
        assert b"s3cret-pw" not in received.content


def test_send_through_a_sendmail_command_and_write_the_eml(
    cli: Invoke, lived_in: None, tmp_path: Path
) -> None:
    stored = tmp_path / "sent.eml"
    script = tmp_path / "fake-sendmail"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(stored)!r}, 'wb').write(sys.stdin.buffer.read())\n"
    )
    script.chmod(0o755)
    assert cli("connect", "sendmail", f"{script} -t").exit_code == 0
    result = cli("invite", "Ann Lee", "--send", "--eml", str(tmp_path / "draft.eml"))
    assert result.exit_code == 0, result.output
    check_request(parsed(stored.read_bytes()))
    draft = (tmp_path / "draft.eml").read_bytes()
    assert draft.startswith(b"X-Unsent: 1\r\n")
    check_request(parsed(draft))
    assert SECRET.encode() not in stored.read_bytes() + draft


def test_dry_run_shows_the_message_and_sends_nothing(cli: Invoke, lived_in: None, home: Path) -> None:
    before = (home / "calendar.toml").read_bytes() if (home / "calendar.toml").exists() else None
    result = cli("invite", "ann", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "METHOD:REQUEST" in result.stdout
    assert "To:       Ann Lee <ann@example.com>" in result.stdout
    assert SECRET not in result.stdout
    after = (home / "calendar.toml").read_bytes() if (home / "calendar.toml").exists() else None
    assert after == before


def test_refusals_are_one_line_and_nothing_is_recorded_as_sent(
    cli: Invoke, lived_in: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_way = cli("invite", "ann", "--send")
    assert no_way.exit_code == 3
    assert "no way to send mail yet: `peerloop connect smtp HOST" in no_way.stderr
    assert cli("invite", "Bo Chen", "--dry-run").exit_code == 3  # no e-mail for Bo
    monkeypatch.setenv("MAIL_PASSWORD", "wrong")
    with smtp_server(login=("dana", "right")) as server:
        assert cli("connect", "smtp", "127.0.0.1", "--port", str(server.port), "--security", "none",
                   "--user", "dana", "--password-env", "MAIL_PASSWORD").exit_code == 0  # fmt: skip
        refused = cli("invite", "ann", "--send")
    assert refused.exit_code == 8, refused.output
    assert refused.stderr.count("\n") == 1
    assert "Invites" not in cli("status").stdout  # nothing recorded as sent
    with smtp_server(reject=["ann@example.com"]) as server:
        assert (
            cli("connect", "smtp", "127.0.0.1", "--port", str(server.port), "--security", "none").exit_code
            == 0
        )
        rejected = cli("invite", "ann", "--send")
    assert rejected.exit_code == 9, rejected.output
    assert "ann@example.com" in rejected.stderr
    unreachable = cli("connect", "smtp", "mail.example.com", "--security", "none")
    assert unreachable.exit_code == 2  # clear text only to this machine
