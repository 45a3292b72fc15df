"""iMIP invitations by e-mail: the message a peer receives, read back by the stdlib `email` package, icalendar and
the strict `ical` parser, delivered to a real SMTP server on 127.0.0.1 or through a sendmail-compatible script."""

from __future__ import annotations

import datetime as dt
import email
import email.header
import email.policy
import email.utils
import json
import re
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from email.message import EmailMessage, MIMEPart
from pathlib import Path
from typing import Any

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream

from peerloop.connect.mail import describe, eml_bytes, imip_message, send_smtp, send_with_command
from peerloop.errors import InputError, LoginRefusedError, RemoteRefusedError, UnreachableError
from tests.conftest import Invoke
from tests.mailserver import HOST, Certificate, make_certificate, smtp_server

pytestmark = pytest.mark.slow  # real SMTP servers (aiosmtpd) and mail commands


LEADER = ("Dana Ode", "dana@example.org")


PEER = ("Ann Lee", "ann@example.com")


UID = "peerloop-series-ann-lee@peerloop"


NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


PASSWORD = "s3cret-Pa55"


def calendar(method: str = "REQUEST", sequence: int = 0, peer: tuple[str, str] = PEER) -> bytes:
    """A small iTIP calendar as peerloop.ics shapes it: one weekly series, the peer an RSVP attendee."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//peerloop tests//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", UID)
    event.add("dtstamp", NOW)
    event.add("dtstart", dt.datetime(2026, 3, 3, 7, 30, tzinfo=dt.UTC))
    event.add("dtend", dt.datetime(2026, 3, 3, 8, 0, tzinfo=dt.UTC))
    event.add("rrule", {"freq": "weekly", "interval": 4, "until": dt.datetime(2026, 8, 31, tzinfo=dt.UTC)})
    event.add("summary", f"Coffee with {peer[0]}")
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{LEADER[1]}")
    organizer.params["CN"] = LEADER[0]
    event.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{peer[1]}")
    attendee.params.update(CN=peer[0], ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="TRUE")
    event.add("attendee", attendee)
    cal.add_component(event)
    data: bytes = cal.to_ical()
    return data


def invitation(method: str = "REQUEST", sequence: int = 0, **overrides: Any) -> EmailMessage:
    peer = (overrides.pop("peer_name", PEER[0]), overrides.pop("peer_email", PEER[1]))
    fields: dict[str, Any] = {
        "calendar": calendar(method, sequence, peer),
        "method": method,
        "leader_name": LEADER[0],
        "leader_email": LEADER[1],
        "peer_name": peer[0],
        "peer_email": peer[1],
        "subject": f"Coffee with {LEADER[0]}, every 4 weeks",
        "body_text": "Hi Ann,\n\nshall we keep meeting for coffee? The invitation is attached.\n\nDana\n",
        "filename": "peerloop-ann-lee.ics",
        "now": NOW,
    }
    return imip_message(**(fields | overrides))


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[MIMEPart, MIMEPart, MIMEPart, MIMEPart]:
    """The four parts CalConnect's iMIP best practices ask for, in their order; fails on any other shape."""
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, inline = alternative.iter_parts()
    return text, inline, alternative, attachment


def decoded(part: MIMEPart) -> bytes:
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def check_invitation(message: EmailMessage, method: str = "REQUEST", sequence: int = 0) -> None:
    """Structure, headers, and the calendar part read back by icalendar and the strict `ical` parser."""
    text, inline, _, attachment = parts(message)
    assert text.get_content_type() == "text/plain"
    assert "shall we keep meeting" in text.get_content()
    assert inline.get_content_type() == "text/calendar"
    assert inline.get_param("method") == method
    assert inline.get_content_charset() == "utf-8"
    assert inline.get_content_disposition() is None
    assert attachment.get_content_type() == "application/ics"
    assert attachment["Content-Transfer-Encoding"] == "base64"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "peerloop-ann-lee.ics"
    ics = decoded(inline)
    assert ics.splitlines() == decoded(attachment).splitlines()
    assert message["MIME-Version"] == "1.0"
    assert message["Message-ID"].endswith("@example.org>")
    assert email.utils.parsedate_to_datetime(message["Date"]) == NOW
    assert message["Subject"] == "Coffee with Dana Ode, every 4 weeks"
    (sender,) = message["From"].addresses
    (recipient,) = message["To"].addresses
    assert (sender.display_name, sender.addr_spec) == LEADER
    assert (recipient.display_name, recipient.addr_spec) == PEER

    cal = icalendar.Calendar.from_ical(ics)
    (event,) = cal.walk("VEVENT")
    assert cal["METHOD"] == method
    assert (str(event["UID"]), event["SEQUENCE"]) == (UID, sequence)
    assert str(event["ORGANIZER"]) == f"mailto:{sender.addr_spec}"
    assert str(event["ATTENDEE"]) == f"mailto:{recipient.addr_spec}"
    assert event["ATTENDEE"].params["RSVP"] == "TRUE"

    strict = IcsCalendarStream.calendar_from_ics(ics.decode("utf-8"))
    (series,) = strict.events
    assert strict.method == method
    assert (series.uid, series.sequence) == (UID, sequence)
    assert series.organizer is not None
    assert series.organizer.uri == f"mailto:{LEADER[1]}"
    (attendee,) = series.attendees
    assert (attendee.uri, attendee.rsvp) == (f"mailto:{PEER[1]}", True)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that nothing listens on: bound, never listening, so no other test can take it meanwhile."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as holder:
        holder.bind((HOST, 0))
        yield holder.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts the connection and never says a word."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as listener:
        listener.bind((HOST, 0))
        listener.listen(1)
        yield listener.getsockname()[1]


def test_built_message_follows_the_imip_best_practice_structure() -> None:
    check_invitation(parse(invitation().as_bytes()))


def test_eml_file_opens_as_an_unsent_draft_with_the_same_invitation() -> None:
    data = eml_bytes(invitation())
    assert data.startswith(b"X-Unsent: 1\r\n")
    draft = parse(data)
    assert draft["X-Unsent"] == "1"
    check_invitation(draft)


@pytest.mark.parametrize(
    "name",
    ['Lee, Ann "the boss"', "Zoë Ørsted-Łukasz", "O'Brien; Jr. <x@evil.example>", "名前 テスト"],
)
def test_names_with_commas_quotes_and_non_ascii_survive_the_headers(name: str) -> None:
    message = parse(invitation(peer_name=name, leader_name=name).as_bytes())
    (sender,) = message["From"].addresses
    (recipient,) = message["To"].addresses
    assert (sender.display_name, sender.addr_spec) == (name, LEADER[1])
    assert (recipient.display_name, recipient.addr_spec) == (name, PEER[1])


def read_by_rfc_2047(data: bytes, header: str) -> str:
    """A header as Python's older `email.header` reads it: unfolded, encoded-words decoded, the white space
    between two adjacent encoded-words dropped and every other kept (RFC 2047 6.2); an address header's
    display name."""
    raw = email.message_from_bytes(data, policy=email.policy.compat32)[header]
    if header in ("From", "To"):
        ((raw, _),) = email.utils.getaddresses([raw])
    return str(email.header.make_header(email.header.decode_header(raw)))


def adjacent_encoded_words(data: bytes, header: str) -> bool:
    raw = email.message_from_bytes(data, policy=email.policy.compat32)[header]
    return bool(re.search(r"\?=\s+=\?", raw))


ISSUE_NAME = "Zoë Müller-Łukasz van der Berg"


@pytest.mark.parametrize(
    "name",
    [ISSUE_NAME, "Łukasz Żółć Ñandú Ærøskøbing Ångström Çağla Ğüşöç Ðoðo", "李小龍 and 王菲 (Faye) van der Berg",
     'Zoë "Z" Müller, PhD', ("Ωμέγα Ünal-" * 19)[:199] + "😀", "Ann Lee"],
)  # fmt: skip
def test_non_ascii_names_keep_their_spaces_across_encoded_words_in_from_to_and_subject(name: str) -> None:
    """Read by an RFC 2047 reader and by CPython's parser. CPython's own folder lost the space between two
    words of a long subject; the one exception left is CPython's parser reading a name too long for one
    encoded-word (gh-128110: it keeps the folding space between two encoded-words)."""
    subject = f"Coffee: {name} and {name}, every 4 weeks"
    data = invitation(peer_name=name, leader_name=name, subject=subject).as_bytes()
    assert data.isascii()
    for header, expected in (("From", name), ("To", name), ("Subject", subject)):
        assert read_by_rfc_2047(data, header) == expected
        modern = parse(data)[header]
        read = modern.addresses[0].display_name if header != "Subject" else str(modern)
        if not adjacent_encoded_words(data, header) or header == "Subject":
            assert read == expected
        else:
            assert read.split() == expected.split()
    if name == ISSUE_NAME:
        assert (
            b"\r\nTo: =?utf-8?q?Zo=C3=AB_M=C3=BCller-=C5=81ukasz?= van der Berg\r\n <ann@example.com>\r\n"
            in data
        )


def test_cpython_alone_drops_a_space_when_it_folds_a_long_non_ascii_subject() -> None:
    """Why peerloop writes the Subject itself."""
    subject = "Coffee: Dana Ode and " + ("Ωμέγα Ünal-" * 19)[:199] + "😀, every 4 weeks"
    message = EmailMessage(policy=email.policy.SMTP.clone(cte_type="7bit"))
    message["Subject"] = subject
    assert read_by_rfc_2047(message.as_bytes(), "Subject") != subject
    assert read_by_rfc_2047(invitation(subject=subject).as_bytes(), "Subject") == subject


def test_non_ascii_names_travel_as_seven_bit_and_read_back_intact() -> None:
    """smtplib never announces 8BITMIME: every body is quoted-printable or base64 when it is not ASCII."""
    data = invitation(peer_name="Zoë Ørsted", body_text="Hej Zoë,\nfika?\n").as_bytes()
    assert data.isascii()
    text, inline, _, _ = parts(parse(data))
    assert text.get_content().splitlines() == ["Hej Zoë,", "fika?"]
    (event,) = IcsCalendarStream.calendar_from_ics(inline.get_content()).events
    assert event.summary == "Coffee with Zoë Ørsted"


def test_newlines_in_names_and_subject_cannot_inject_headers() -> None:
    hostile = "Ann\r\nBcc: victim@evil.example\r\n\r\nInjected body"
    message = invitation(
        peer_name=hostile, leader_name=hostile, subject=f"Hi{hostile}", filename=f"a{hostile}.ics"
    )
    data = message.as_bytes()
    assert b"\nBcc:" not in data
    assert b"\nInjected body" not in data
    parsed = parse(data)
    assert parsed["Bcc"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == [PEER[1]]
    assert parsed["To"].addresses[0].display_name == "Ann Bcc: victim@evil.example Injected body"
    assert parsed["Subject"] == "HiAnn Bcc: victim@evil.example Injected body"


@pytest.mark.parametrize("address", ["zoë@example.com", "not an address", "ann@", "@example.com"])
def test_an_address_that_cannot_be_mailed_is_refused_with_the_fix(address: str) -> None:
    with pytest.raises(
        InputError, match=r"Ann Lee's e-mail address .* with `peerloop edit 'Ann Lee' --email ADDRESS`$"
    ) as caught:
        invitation(peer_email=address)
    assert caught.value.exit_code == 2


def test_method_must_match_the_calendar() -> None:
    with pytest.raises(ValueError, match="METHOD:CANCEL"):
        invitation(calendar=calendar("REQUEST"), method="CANCEL")


def test_dry_run_summary_names_who_what_and_the_parts_without_the_body() -> None:
    summary = describe(invitation(sequence=3))
    assert "From:     Dana Ode <dana@example.org>" in summary
    assert "To:       Ann Lee <ann@example.com>" in summary
    assert "Subject:  Coffee with Dana Ode, every 4 weeks" in summary
    assert f"METHOD:REQUEST  UID:{UID}  SEQUENCE:3" in summary
    assert "text/calendar; method=REQUEST" in summary
    assert "application/ics" in summary
    assert "'peerloop-ann-lee.ics'" in summary
    assert "shall we keep meeting" not in summary
    assert "BEGIN:VCALENDAR" not in summary


@pytest.mark.parametrize("host", ["mail.example.com", "192.168.1.10", "127.0.0.2.example.com"])
def test_security_none_is_refused_for_a_server_elsewhere(host: str) -> None:
    with pytest.raises(InputError, match="clear text") as caught:
        send_smtp(invitation(), host=host, port=25, security="none")
    assert caught.value.exit_code == 2


def test_unknown_security_is_refused() -> None:
    with pytest.raises(InputError, match="use starttls, ssl or none"):
        send_smtp(invitation(), host=HOST, port=25, security="tls")


def test_a_user_without_a_password_is_refused_before_connecting() -> None:
    with pytest.raises(LoginRefusedError, match="no password for dana; give --password-command"):
        send_smtp(invitation(), host="mail.example.com", port=587, security="starttls", user="dana")


def test_unreadable_ca_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the CA file"):
        send_smtp(invitation(), host=HOST, port=25, security="starttls", ca_file=tmp_path / "missing.pem")


def test_unreachable_port_is_one_line_with_the_address(closed_port: int) -> None:
    with pytest.raises(
        UnreachableError, match=rf"cannot reach the SMTP server {HOST}:{closed_port} "
    ) as caught:
        send_smtp(invitation(), host=HOST, port=closed_port, security="none", timeout=2)
    assert caught.value.exit_code == 7
    assert "\n" not in caught.value.message


def test_server_that_never_answers_times_out(silent_port: int) -> None:
    with pytest.raises(UnreachableError, match=r"did not answer within 0.3 s"):
        send_smtp(invitation(), host=HOST, port=silent_port, security="none", timeout=0.3)


def test_plain_local_server_receives_the_invitation_then_the_cancel() -> None:
    with smtp_server() as server:
        send_smtp(invitation(), host="localhost", port=server.port, security="none", timeout=5)
        send_smtp(invitation("CANCEL", sequence=1), host=HOST, port=server.port, security="none", timeout=5)
    first, second = server.received
    assert (first.mail_from, first.rcpt_tos) == (LEADER[1], [PEER[1]])
    check_invitation(parse(first.content))
    check_invitation(parse(second.content), "CANCEL", 1)
    assert b"X-Unsent" not in first.content


def test_starttls_with_the_ca_file_and_a_login_delivers(certificate: Certificate) -> None:
    with smtp_server(certificate=certificate, login=("dana", PASSWORD)) as server:
        send_smtp(
            invitation(), host=HOST, port=server.port, security="starttls", user="dana", password=PASSWORD,
            ca_file=certificate.cert, timeout=5,
        )  # fmt: skip
    (delivered,) = server.received
    check_invitation(parse(delivered.content))


def test_implicit_tls_with_the_ca_file_delivers(certificate: Certificate) -> None:
    with smtp_server(certificate=certificate, implicit_tls=True) as server:
        send_smtp(
            invitation(), host=HOST, port=server.port, security="ssl", ca_file=certificate.cert, timeout=5
        )
    (delivered,) = server.received
    check_invitation(parse(delivered.content))


def test_wrong_password_is_a_refused_login_that_never_shows_the_password(certificate: Certificate) -> None:
    with (
        smtp_server(certificate=certificate, login=("dana", PASSWORD)) as server,
        pytest.raises(LoginRefusedError, match=r"refused the login for dana \(535") as caught,
    ):
        send_smtp(
            invitation(), host=HOST, port=server.port, security="starttls", user="dana",
            password="wrong-" + PASSWORD, ca_file=certificate.cert, timeout=5,
        )  # fmt: skip
    assert caught.value.exit_code == 8
    assert caught.value.message.endswith("with password ***); check the user name and the password")
    assert PASSWORD not in caught.value.message
    assert server.received == []


def test_a_server_that_wants_a_login_says_so_when_none_is_given(certificate: Certificate) -> None:
    with (
        smtp_server(certificate=certificate, login=("dana", PASSWORD)) as server,
        pytest.raises(LoginRefusedError, match="takes mail only after a login"),
    ):
        send_smtp(
            invitation(),
            host=HOST,
            port=server.port,
            security="starttls",
            ca_file=certificate.cert,
            timeout=5,
        )
    assert server.received == []


def test_self_signed_certificate_fails_verification_without_the_ca_file(certificate: Certificate) -> None:
    with (
        smtp_server(certificate=certificate) as server,
        pytest.raises(UnreachableError, match=r"could not be verified .* CA file") as caught,
    ):
        send_smtp(invitation(), host=HOST, port=server.port, security="starttls", timeout=5)
    assert caught.value.exit_code == 7
    assert server.received == []


def test_starttls_asked_of_a_server_without_it_is_refused() -> None:
    with smtp_server() as server, pytest.raises(UnreachableError, match="does not offer STARTTLS"):
        send_smtp(invitation(), host=HOST, port=server.port, security="starttls", timeout=5)
    assert server.received == []


def test_implicit_tls_asked_of_a_plain_server_is_a_tls_failure(certificate: Certificate) -> None:
    with smtp_server() as server, pytest.raises(UnreachableError, match=r"^TLS with .* check the security"):
        send_smtp(
            invitation(), host=HOST, port=server.port, security="ssl", ca_file=certificate.cert, timeout=5
        )
    assert server.received == []


def test_rejected_recipient_names_the_address_and_nothing_is_delivered() -> None:
    with (
        smtp_server(reject=[PEER[1]]) as server,
        pytest.raises(RemoteRefusedError, match=rf"refused the recipient {PEER[1]} \(550 ") as caught,
    ):
        send_smtp(invitation(), host=HOST, port=server.port, security="none", timeout=5)
    assert caught.value.exit_code == 9
    assert server.received == []


def test_recipient_rejected_among_others_is_still_reported() -> None:
    message = invitation()
    message.replace_header("To", f"{PEER[1]}, bo@example.com")
    with (
        smtp_server(reject=["bo@example.com"]) as server,
        pytest.raises(RemoteRefusedError, match=r"refused the recipient bo@example.com .* the others got it"),
    ):
        send_smtp(message, host=HOST, port=server.port, security="none", timeout=5)
    assert [r.rcpt_tos for r in server.received] == [[PEER[1]]]


def mail_script(folder: Path, body: str) -> Path:
    script = folder / "fake-sendmail"
    script.write_text(f"#!{sys.executable}\nimport sys\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return script


def test_sendmail_compatible_command_receives_the_message_on_stdin(tmp_path: Path) -> None:
    store = tmp_path / "received.eml"
    script = mail_script(
        tmp_path,
        f"open({str(store)!r}, 'wb').write(sys.stdin.buffer.read())\n"
        f"open({str(store)!r} + '.args', 'w').write(' '.join(sys.argv[1:]))",
    )
    send_with_command(invitation(), f"'{script}' -t -oi", timeout=20)
    data = store.read_bytes()
    assert b"\r\n" not in data, "a sendmail command reads local (LF) line endings"
    assert b"X-Unsent" not in data
    check_invitation(parse(data))
    assert Path(f"{store}.args").read_text() == "-t -oi"


def test_failing_mail_command_reports_its_last_error_line(tmp_path: Path) -> None:
    script = mail_script(
        tmp_path,
        "sys.stdin.buffer.read()\n"
        "print('msmtp: envelope from address dana@example.org not accepted by the server', file=sys.stderr)\n"
        "print('msmtp: could not send mail (account default from ~/.msmtprc)', file=sys.stderr)\n"
        "sys.exit(75)",
    )
    with pytest.raises(RemoteRefusedError) as caught:
        send_with_command(invitation(), f"{script} -t", timeout=20)
    assert caught.value.message == (
        f"the mail command '{script}' failed (exit 75): msmtp: could not send mail (account default from ~/.msmtprc)"
    )
    assert caught.value.exit_code == 9


def test_mail_command_killed_by_a_signal_is_reported_as_such(tmp_path: Path) -> None:
    script = mail_script(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)")
    with pytest.raises(RemoteRefusedError, match=r"failed \(killed by signal 15\): nothing on stderr"):
        send_with_command(invitation(), str(script), timeout=20)


def test_mail_command_that_hangs_is_stopped_after_the_timeout(tmp_path: Path) -> None:
    script = mail_script(tmp_path, "import time\nsys.stdin.buffer.read()\ntime.sleep(60)")
    with pytest.raises(UnreachableError, match=r"did not finish within 0.5 s") as caught:
        send_with_command(invitation(), str(script), timeout=0.5)
    assert caught.value.exit_code == 7


def test_mail_command_that_is_not_executable_is_an_input_error(tmp_path: Path) -> None:
    script = mail_script(tmp_path, "")
    script.chmod(0o644)
    with pytest.raises(InputError, match=r"could not be started \(Permission denied\)"):
        send_with_command(invitation(), str(script), timeout=5)


def test_missing_mail_command_says_how_to_fix_it() -> None:
    with pytest.raises(InputError, match=r"'no-such-mailer-xyz' was not found; install it") as caught:
        send_with_command(invitation(), "no-such-mailer-xyz -t", timeout=5)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("command", ["", "   ", "msmtp 'unbalanced"])
def test_unusable_mail_command_is_an_input_error(command: str) -> None:
    with pytest.raises(InputError, match="mail command"):
        send_with_command(invitation(), command, timeout=5)


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


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=120,
    )
    .map(lambda raw: " ".join(raw.split()))
    .filter(bool)
)
@settings(max_examples=300, deadline=None)
def test_a_folded_recipient_is_one_recipient_with_the_same_name(name: str) -> None:
    """Names with commas, quotes, backslashes and any script: the To: header, however it folds, names the one
    peer, as written, and so does the Subject (CPython's own parser may add a space where a long non-ASCII
    name had to be split)."""
    subject = f"Coffee: Dana Ode and {name}, every 4 weeks"
    data = invitation(peer_name=name, peer_email="ann@example.com", subject=subject).as_bytes()
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert read_by_rfc_2047(data, "To") == name
    assert read_by_rfc_2047(data, "Subject") == str(parse(data)["Subject"]) == subject
    (recipient,) = parse(data)["To"].addresses
    assert recipient.addr_spec == "ann@example.com"
    assert recipient.display_name.split() == name.split() or "".join(
        recipient.display_name.split()
    ) == "".join(name.split())
