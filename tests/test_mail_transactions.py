"""A command that sends a mail is one transaction with the change it belongs to: `invite --send`, `remove
--send-cancel` and `pause --send-cancel` killed (SIGKILL) or interrupted (Ctrl-C) at every step, against a
real SMTP server (aiosmtpd). After any of them the folder holds all of the change or none of it, never a
cancellation recorded for a peer still in the roster, and what reached the mail server is said truly."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lived_in import LOCK, python_peerloop, subprocess_env
from tests.mailserver import MailServer, smtp_server

pytestmark = pytest.mark.slow

NOW = "2026-03-02T09:00"
PEERS = ("Ann Lee", "Bo Chen", "Cy Dee", "Di Eze")
STEPS = ["begin", "temp", "sending", "sent", "record", "rename", "done"]
"""Every step a change that waits for a mail passes, in order: before the mail and after it."""
BEFORE_THE_MAIL = {"begin", "temp", "sending"}


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    with smtp_server() as server:
        yield server


class Leader:
    def __init__(self, folder: Path, server: MailServer) -> None:
        self.home = folder
        self.run("init", "--name", "Dana Ode", "--email", "dana@example.com", "--timezone", "Europe/Berlin",
                 "--day", "tue", "--time", "08:30", "--start", "2026-03-02", *(w for p in PEERS for w in ("--peer", p)))  # fmt: skip
        for peer in PEERS:
            self.run("edit", peer, "--email", f"{peer.split()[0].lower()}@example.com")
        self.run("connect", "smtp", server.host, "--port", str(server.port), "--security", "none")

    def run(self, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
        extra = {"PEERLOOP_NOW": NOW} | ({"_PEERLOOP_FAULT": fault} if fault else {})
        return subprocess.run(python_peerloop(*args), env=subprocess_env(self.home, extra), capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)  # type: ignore[arg-type]  # fmt: skip

    def holds(self) -> dict[str, dict[str, object]]:
        """What the calendar state says each peer holds (read through `status`, which reads it)."""
        status = json.loads(self.run("status", "--json").stdout)
        return status["invitations"]  # type: ignore[no-any-return]

    def files(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.home)): p.read_bytes() for p in sorted(self.home.rglob("*")) if p.is_file()
                and p.name not in (LOCK, ".status-line", ".missed-week")}  # fmt: skip


@pytest.mark.parametrize("signal", ["KILL", "INT"])
@pytest.mark.parametrize("step", STEPS)
def test_an_invitation_sent_is_recorded_with_it_or_not_at_all(
    mail: MailServer, tmp_path: Path, step: str, signal: str
) -> None:
    leader = Leader(tmp_path / "home", mail)
    before_files = leader.files()
    arrived = len(mail.received)
    done = leader.run("invite", "Ann Lee", "--send", fault=f"{step}:{signal}")
    went_out = len(mail.received) - arrived
    assert went_out == (0 if step in BEFORE_THE_MAIL else 1)
    recorded = "Ann Lee" in leader.holds()["sent"]
    if signal == "INT":
        if step in BEFORE_THE_MAIL:
            assert (done.returncode, done.stderr) == (1, "Aborted.\n")
        else:  # the server took it: the change lands first, then the Ctrl-C is said
            assert done.returncode == 0, done.stderr
            assert "Sent the invitation to Ann Lee" in done.stdout
            assert "Ctrl-C came while a change was being saved: the change finished first" in done.stderr
        assert recorded == (step not in BEFORE_THE_MAIL)
    else:
        assert done.returncode == -9
        assert recorded == (step in ("record", "rename", "done"))  # a commit record is rolled forward
    if not recorded:
        after = leader.run("log", "--touch", "Bo Chen")  # the next command that takes the lock
        assert after.returncode == 0, after.stderr
        if step == "sent" and signal == "KILL":  # killed after the server took it, before the record
            assert "stopped while sending the invitation to Ann Lee" in after.stderr
        assert "Ann Lee" not in leader.holds()["sent"]
        again = leader.run("invite", "Ann Lee", "--send")
        assert again.returncode == 0, again.stderr
    assert "Ann Lee" in leader.holds()["sent"]
    assert before_files.keys() <= leader.files().keys()


@pytest.mark.parametrize("signal", ["KILL", "INT"])
@pytest.mark.parametrize("step", STEPS)
def test_a_removal_and_its_cancellation_land_together(
    mail: MailServer, tmp_path: Path, step: str, signal: str
) -> None:
    leader = Leader(tmp_path / "home", mail)
    assert leader.run("invite", "Bo Chen", "--send").returncode == 0
    arrived = len(mail.received)
    done = leader.run("remove", "Bo Chen", "--yes", "--send-cancel", fault=f"{step}:{signal}")
    went_out = len(mail.received) - arrived
    assert went_out == (0 if step in BEFORE_THE_MAIL else 1)
    peers = [p["name"] for p in json.loads(leader.run("peers", "--json").stdout)]
    holds = "Bo Chen" in leader.holds()["sent"] if "Bo Chen" in peers else None
    if "Bo Chen" in peers:  # nothing changed: the peer holds the invitation, as before
        assert holds is True
    landed = "Bo Chen" not in peers
    if signal == "INT":
        assert landed == (step not in BEFORE_THE_MAIL), done.stderr
        if landed:
            assert "Sent Bo Chen a cancellation of our peer meetings" in done.stdout
    else:
        assert landed == (step in ("record", "rename", "done"))


def test_a_pause_cancels_exactly_the_meetings_the_peer_was_sent_even_after_a_rename(
    mail: MailServer, tmp_path: Path
) -> None:
    from email import message_from_bytes, policy

    import icalendar

    leader = Leader(tmp_path / "home", mail)
    assert leader.run("invite", "Cy Dee", "--send").returncode == 0
    sent = message_from_bytes(mail.received[-1].content, policy=policy.default)
    invitation = icalendar.Calendar.from_ical(
        next(p for p in sent.walk() if p.get_content_type() == "text/calendar").get_content()
    )
    series = next(iter(invitation.walk("VEVENT")))
    assert leader.run("log", "--skip", "--reason", "travel").returncode == 0  # the plan moves on
    assert leader.run("edit", "Cy Dee", "--name", "Cy Dee-Park").returncode == 0
    paused = leader.run("pause", "Cy Dee-Park", "--until", "2026-05-01", "--send-cancel")
    assert paused.returncode == 0, paused.stderr
    cancel = message_from_bytes(mail.received[-1].content, policy=policy.default)
    assert cancel["To"].addresses[0].display_name == "Cy Dee-Park"
    calendar = icalendar.Calendar.from_ical(
        next(p for p in cancel.walk() if p.get_content_type() == "text/calendar").get_content()
    )
    ids = [event.decoded("RECURRENCE-ID") for event in calendar.walk("VEVENT")]
    start = series.decoded("DTSTART")
    every = int(series["RRULE"]["INTERVAL"][0])
    assert ids, "the paused meetings are named"
    for moment in ids:  # each names a meeting of the series the peer received
        assert (moment - start).days % (7 * every) == 0
        assert moment.time() == start.time()
    assert all(str(event["UID"]) == str(series["UID"]) for event in calendar.walk("VEVENT"))
    said = cancel.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert said.startswith("Hi Cy,\n")
    assert "on Tuesday" in said


def test_a_stop_with_send_cancel_cancels_every_invitation_sent_and_only_those(
    mail: MailServer, tmp_path: Path
) -> None:
    from email import message_from_bytes, policy

    leader = Leader(tmp_path / "home", mail)
    for peer in ("Ann Lee", "Bo Chen"):
        assert leader.run("invite", peer, "--send").returncode == 0
    arrived = len(mail.received)
    stop = leader.run("review", "--early", "--added-value", "no", "--decision", "stop", "--send-cancel")
    assert stop.returncode == 0, stop.stderr
    cancels = [message_from_bytes(m.content, policy=policy.default) for m in mail.received[arrived:]]
    assert sorted(m["To"].addresses[0].display_name for m in cancels) == ["Ann Lee", "Bo Chen"]
    for message in cancels:
        part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        assert part.get_param("method") == "CANCEL"
    assert "Sent Ann Lee a cancellation" in stop.stdout
    assert "Sent Bo Chen a cancellation" in stop.stdout
    assert leader.holds()["sent"] == []


def test_a_stop_without_send_cancel_says_who_still_holds_an_invitation(
    mail: MailServer, tmp_path: Path
) -> None:
    leader = Leader(tmp_path / "home", mail)
    assert leader.run("invite", "Cy Dee", "--send").returncode == 0
    arrived = len(mail.received)
    stop = leader.run("review", "--early", "--added-value", "no", "--decision", "stop")
    assert stop.returncode == 0, stop.stderr
    assert len(mail.received) == arrived
    assert "note: Cy Dee still holds your invitation" in stop.stderr
    assert "Cy Dee" in leader.holds()["sent"]
