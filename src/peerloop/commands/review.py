"""`peerloop review`: the six-month review (the evidence, the feedback model, the decision), and past ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from peerloop import options, prompts
from peerloop.core import ids, journal
from peerloop.core.models import Decision, Review, Settings, Verdict
from peerloop.core.parse import values
from peerloop.errors import ConflictError, InputError, MissingValueError
from peerloop.inert import safe
from peerloop.output import text
from peerloop.output.messages import NEW_TRIAL, cancellation_sent
from peerloop.store.records import Store
from peerloop.store.session import load_evidence, require_settings

if TYPE_CHECKING:
    from peerloop.core.trial import Evidence
    from peerloop.output.destination import Output

ADDED_VALUE_QUESTION = "Did the peer meetings add value? (yes, partly, no)"
DECISION_QUESTION = (
    "Your decision: continue (a new trial starts today), adjust (a new trial, after changing the roster "
    "or the slot), or stop? (continue, adjust, stop)"
)
ADJUST_HELP = (
    "To adjust: `peerloop add NAME`, `peerloop remove NAME` and `peerloop pause NAME --until DATE` change "
    "the roster; `peerloop init --day DAY --time HH:MM --duration MIN --mode MODE` changes the slot; "
    "`peerloop plan` shows the weeks ahead."
)
WROTE = "Wrote the evidence and your answers to {} (readable only by you)."
VERDICT_TEXT = {
    Verdict.YES: "it added value",
    Verdict.PARTLY: "it partly added value",
    Verdict.NO: "it did not add value",
}


def review(
    added_value: Annotated[
        Verdict | None, typer.Option("--added-value", help="Did this add value?", case_sensitive=False)
    ] = None,
    works: Annotated[str | None, typer.Option("--works", metavar="TEXT", help="What works well.")] = None,
    improve: Annotated[
        str | None, typer.Option("--improve", metavar="TEXT", help="What can be improved.")
    ] = None,
    decision: Annotated[
        Decision | None,
        typer.Option(
            "--decision", help="continue, adjust (both start a new trial) or stop.", case_sensitive=False
        ),
    ] = None,
    early: Annotated[
        bool, typer.Option("--early", help="Review now, before the trial's review date.")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE.md",
            help="Also write the evidence and your answers to this Markdown file (private, mode 0600).",
        ),
    ] = None,
    show: Annotated[
        str | None,
        typer.Option(
            "--show", metavar="ID", help="Show a past review again (its id is in `peerloop history`)."
        ),
    ] = None,
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the evidence as JSON (with the review, when the answers are given as flags).",
        ),
    ] = False,
    send_cancel: Annotated[
        bool | None,
        typer.Option(
            "--send-cancel/--no-send-cancel",
            help="With a stop: e-mail the peers you sent invitations their cancellation (asked on a terminal).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The six-month review: did it add value?

    First the evidence (what you wanted the network to give you; meetings kept and skipped, per peer,
    the gains, wins, open follow-ups, touches between meetings; your skip reasons beside the excuses you
    listed at the start). Then the feedback model: what works well? what can be improved? Then the
    decision: continue or adjust (a new trial starts today) or stop. On a terminal `peerloop review` asks
    each question; the flags answer them in a script. `--json` alone prints the evidence and records
    nothing; `--show ID` shows a past review (with --report, writes it again). Before the review date,
    pass --early.

    Examples:

      peerloop review --json

      peerloop review --added-value partly --works "Tuesdays" --decision adjust --report review.md
    """
    for flag, value in (("--works", works), ("--improve", improve)):
        journal.check_text(value, flag)  # refused before the evidence is shown, not after
    store = options.store()
    target = options.output_path(store, str(report), "--report", "review.md") if report is not None else None
    if show is not None:
        _show_past(store, show, target, json)
        return
    answering = (
        any(value is not None for value in (added_value, works, improve, decision)) or report is not None
    )
    _, settings, found_journal, found = load_evidence(store)
    if json and not answering:
        from peerloop.output.json import emit_json, evidence_json

        emit_json({**evidence_json(found), "review": None})
        return
    _check_can_review(settings, found_journal.reviews, found, early)
    asking = prompts.interactive() and not json
    if not asking and (added_value is None or decision is None):
        raise MissingValueError(
            "the review needs --added-value (yes, partly, no) and --decision (continue, adjust, stop) "
            "when there is no terminal to ask on (--works and --improve are optional)"
        )
    if not json:
        from peerloop.output.trial import evidence_lines

        for line in evidence_lines(found, settings.trial_months, text.terminal_width()):
            text.out_wrapped(line)
        text.out()
    if asking:
        text.message(text.style("The review: what works well? what can be improved?", "bold", stream=None))
    verdict = added_value or prompts.ask(ADDED_VALUE_QUESTION, values.parse_verdict, "--added-value")
    if works is None and asking:
        works = prompts.ask_optional("What works well? (Enter to skip)", values.check_utf8)
    if improve is None and asking:
        improve = prompts.ask_optional("What can be improved? (Enter to skip)", values.check_utf8)
    choice = decision or prompts.ask(DECISION_QUESTION, values.parse_decision, "--decision")
    recorded = Review(
        id="", date=found.today, trial_start=settings.trial_start, added_value=verdict, decision=choice,
        works=journal.check_text(works, "--works"), improve=journal.check_text(improve, "--improve"),
        early=found.early,
    )  # fmt: skip

    output = _staged_report(target, found, recorded) if target is not None else None
    try:
        updated_settings, entry_id = _save_review(store, settings, found_journal.reviews, recorded)
    except BaseException:
        if output is not None:
            output.discard()
        raise
    recorded = recorded._replace(id=entry_id)
    say = text.message if json else text.out_wrapped
    if json:
        from peerloop.output.json import emit_json, evidence_json, review_json

        emit_json({**evidence_json(found), "review": review_json(recorded)})
    say(
        f"Saved your review of {text.day(found.today)} ({recorded.id}): {VERDICT_TEXT[verdict]}; decision: {choice.value}."
    )
    if output is not None:
        output.finish()
        say(WROTE.format(output.path))
    if choice is Decision.STOP:
        say(
            f"The loop stops here: no meeting is planned any more (`peerloop export` or `peerloop sync` cancels "
            f"those in your calendar). Your journal stays in {store.home}; "
            f"{NEW_TRIAL} if you come back to it."
        )
        _cancel_invitations(store, send_cancel, say)
        return
    say(
        f"A new {updated_settings.trial_months}-month trial starts "
        f"{'today' if updated_settings.trial_start == found.today else 'with this week'}: "
        f"{text.day(updated_settings.trial_start)} to "
        f"{text.day(updated_settings.counted_until)} ({updated_settings.trial_weeks} weeks). `peerloop status` shows where it stands."
    )
    if choice is Decision.ADJUST:
        say(ADJUST_HELP)


def _staged_report(target: Path, found: Evidence, recorded: Review) -> Output:
    from peerloop.output.destination import Output
    from peerloop.output.report import report_markdown

    return Output(target, report_markdown(found, recorded).encode("utf-8")).stage()


def _save_review(
    store: Store, settings: Settings, reviews: Iterable[Review], recorded: Review
) -> tuple[Settings, str]:
    """Check and save under one lock: two reviews at once record one. The new settings and the review's id."""
    from peerloop.core.trial import next_trial, review_for

    with store.change():
        roster = store.load_roster()
        settings_now = require_settings(roster)
        if settings_now.trial_start != settings.trial_start:
            raise ConflictError("the trial changed while you answered (another review?); nothing was saved")
        year = store.load_year(recorded.date.year)
        done = review_for(settings_now, (*reviews, *year.reviews))
        if done is not None:
            raise ConflictError(
                f"this trial was reviewed on {done.date.isoformat()} ({done.id}); nothing was saved. {NEW_TRIAL}"
            )
        entry_id = ids.new_id(year, recorded.date, store.folder.device)
        store.save_year(year._replace(reviews=(*year.reviews, recorded._replace(id=entry_id))))
        updated = next_trial(settings_now, recorded.decision, recorded.date)
        if updated != settings_now:
            store.save_roster(roster._replace(settings=updated))
    return updated, entry_id


def _check_can_review(settings: Settings, reviews: Iterable[Review], found: Evidence, early: bool) -> None:
    from peerloop.core.trial import review_for
    from peerloop.output.trial import day_count

    done = review_for(settings, reviews)
    if done is not None:
        raise ConflictError(
            f"you reviewed this trial on {done.date.isoformat()} and decided to {done.decision.value}; {NEW_TRIAL}"
        )
    if found.early and not early:
        raise InputError(
            f"the review is due on {found.trial_end.isoformat()}, "
            f"{day_count((found.trial_end - found.today).days)} from now (the trial runs until "
            f"{settings.counted_until.isoformat()}); to review it now, pass --early"
        )


def _show_past(store: Store, wanted: str, target: Path | None, json: bool) -> None:
    """A past review, with the evidence of the trial it closed, as of its date."""
    from peerloop.actions import log as logbook
    from peerloop.core.trial import evidence
    from peerloop.store.session import trial_journal

    _, entry = logbook.locate(store, wanted)
    if not isinstance(entry, Review):
        raise ConflictError(
            f"{entry.id} is a {journal.kind_of(entry)}, not a review; `peerloop history --kind review`"
        )
    roster = store.load_roster()
    settings = require_settings(roster)._replace(trial_start=entry.trial_start)
    found = evidence(roster, settings, trial_journal(store, settings, entry.date, before=1), entry.date)
    if json:
        from peerloop.output.json import emit_json, evidence_json, review_json

        emit_json({**evidence_json(found), "review": review_json(entry)})
    else:
        from peerloop.output.trial import evidence_lines

        for line in evidence_lines(found, settings.trial_months, text.terminal_width()):
            text.out_wrapped(line)
        text.out()
        text.out_wrapped(f"Your review of {text.day(entry.date)} ({entry.id}): "
                         f"{VERDICT_TEXT[entry.added_value]}; decision: {entry.decision.value}.")  # fmt: skip
        for label, value in (("What works well", entry.works), ("What can be improved", entry.improve)):
            text.out_wrapped(f"  {label}: {safe(value) if value else '-'}")
    if target is not None:
        _staged_report(target, found, entry).finish()
        (text.message if json else text.out)(WROTE.format(target))


def _cancel_invitations(store: Store, send_cancel: bool | None, say: Callable[[str], None]) -> None:
    """After a stop: the peers who hold an invitation get its cancellation, each mail one transaction with
    its record (asked on a terminal, --send-cancel in a script); else a line says who still holds one."""
    from peerloop.actions import invite as inviting
    from peerloop.store.session import Session

    holding = [peer for peer in store.load_roster().peers if inviting.holds_invitation(store, peer)]
    if not holding:
        return
    names = ", ".join(safe(peer.name) for peer in holding)
    holds = "holds" if len(holding) == 1 else "hold"
    if send_cancel is None and prompts.interactive():
        send_cancel = prompts.confirm(f"{names} {holds} your invitation. E-mail the cancellation?")
    if not send_cancel:
        text.message(
            f"note: {names} still {holds} your invitation; `peerloop remove NAME --send-cancel` or "
            "`peerloop pause NAME --until DATE --send-cancel` cancels one"
        )
        return
    for peer in holding:
        with store.change():
            session = Session(store)
            what, _ = inviting.cancel(store, peer, session.settings, session.now, None)
        say(cancellation_sent(peer.name, what, inviting.how_sent(store.connections())))
