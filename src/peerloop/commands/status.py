"""`peerloop status`: where the trial stands, for people (`status`), cron (`--check`) and prompts (`--line`)."""

from __future__ import annotations

from typing import Annotated

import typer

from peerloop import options
from peerloop.actions.calendar import CalendarFreshness, calendar_freshness
from peerloop.core.trial import Status
from peerloop.errors import Exit, InputError
from peerloop.inert import safe
from peerloop.output import text
from peerloop.store import session


def check_result(status: Status) -> tuple[int, str | None]:
    """`status --check`: 0 on track; Exit.OVERDUE or Exit.REVIEW_DUE with a one-line reason.

    Overdue means what `next` says: this week's meeting day has passed and the week has not ended. A week
    that ended with nothing logged is missed: the strip shows it, and it no longer makes the check fail.
    """
    problems = []
    slot = status.next
    peer = slot.peer if slot is not None else None
    if status.overdue and slot is not None and peer is not None:
        problems.append(
            f"this week's {slot.mode.value} with {safe(peer.name)} ({text.day(slot.date)}) is "
            "overdue: log it with `peerloop log`, or `peerloop log --skip --reason TEXT`"
        )
    if status.review_due:
        problems.append(
            f"the trial ended on {text.day(status.settings.counted_until)} and the review is due: run `peerloop review`"
        )
    if not problems:
        return Exit.OK, None
    return (Exit.OVERDUE if status.overdue else Exit.REVIEW_DUE), "peerloop: " + "; ".join(problems)


def _calendar_line(fresh: CalendarFreshness | None) -> str:
    if fresh is None:
        return "not given the plan yet: `peerloop export`, or `peerloop connect caldav` and `peerloop sync`"
    when = f"{'synced' if fresh.by == 'sync' else 'exported'} {text.day(fresh.at.date())} {fresh.at:%H:%M}"
    if not fresh.stale:
        return f"{when}; up to date"
    return text.style(f"{when}; {fresh.stale_line()}", "yellow")


def status(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Print nothing when on track; exit 10 when this week's meeting day has passed with nothing logged "
            "(until the week ends), 11 when the review is due, with a one-line reason on stderr (for cron).",
        ),
    ] = False,
    line: Annotated[
        bool,
        typer.Option(
            "--line",
            help="One short line for shell prompts and tmux status bars; empty when there is nothing to show.",
        ),
    ] = False,
    json: options.JsonOption = False,
) -> int:
    """Where the trial stands, week by week.

    Week k of N as a strip, the meetings kept, the skips, the next meeting and the review. Each week
    of the trial is one character (kept, skipped, missed, this week still open, to come), with a
    legend under the strip. A week holding a skip counts as skipped, even when an extra meeting was
    logged in it; a past week with nothing logged is missed.

    Examples:

      peerloop status

      peerloop status --json | jq .strip

      peerloop status --check    # in a crontab: silent when on track

      peerloop status --line     # in a shell prompt: "peer: Ann Lee · Tue 08:30"
    """
    if check and json:
        raise InputError(
            "--check answers with its exit code and prints nothing; it cannot be combined with --json"
        )
    if line:
        if check or json:
            raise InputError("--line cannot be combined with --check or --json")
        from peerloop.shell_prompt import current_line

        summary = current_line(str(options.store().home))
        if summary:
            text.out(summary)
        return Exit.OK
    store = options.store()
    current = session.load_status(store)
    if check:
        code, reason = check_result(current)
        if reason is not None:
            text.message(reason)
        return code
    fresh = calendar_freshness(store)
    from peerloop.actions.invite import invitations

    sent, stale = invitations(store)
    if json:
        from peerloop.output.json import emit_json, status_json

        calendar = {"by": fresh.by, "at": fresh.at, "stale_weeks": len(fresh.stale)} if fresh else None
        invited = {"sent": sent, "out_of_date": stale}
        emit_json(
            {**status_json(current, check_result(current)), "calendar": calendar, "invitations": invited}
        )
    else:
        from peerloop.output.trial import labelled, status_lines

        width = text.terminal_width()
        rows = [*status_lines(current, width), *labelled("Calendar", _calendar_line(fresh), width)]
        if sent:
            names = ", ".join(safe(name) for name in sent)
            late = ", ".join(safe(name) for name in stale)
            update = (
                f"; out of date: {late} (`peerloop invite NAME --send` updates it)"
                if stale
                else "; all current"
            )
            rows += labelled("Invites", f"sent to {names}{update}", width)
        for row in rows:
            text.out(row)
    if current.review_due:
        from peerloop.output.messages import reminder_line

        text.message(reminder_line(current.settings))
    return Exit.OK
