"""`peerloop init`: who you are, your weekly slot (a time per mode), the trial, your first peers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from peerloop import clock, options, prompts
from peerloop.core.models import EARLIEST_DAY, LATEST_DAY, WEEKDAY_NAMES, WEEKDAYS, Mode, Peer, Settings
from peerloop.core.parse import parse_flag, values
from peerloop.core.roster import add_peer
from peerloop.errors import Declined, InputError, MissingValueError
from peerloop.inert import safe
from peerloop.options import Weekday, resolve
from peerloop.output import text
from peerloop.output.messages import warn_roster
from peerloop.store.records import Store


def settings_lines(settings: Settings) -> list[str]:
    slot = f"{WEEKDAY_NAMES[settings.weekday]}s at {settings.time:%H:%M} ({settings.timezone})"
    per_mode = ", ".join(
        f"{mode.value} {settings.mode_times[mode]:%H:%M}" for mode in Mode if mode in settings.mode_times
    )
    return [
        f"Leader:   {safe(settings.name)}" + (f" <{settings.email}>" if settings.email else ""),
        f"Slot:     {slot}, {settings.duration} min, {settings.mode.value} by default"
        + (f" ({per_mode})" if per_mode else ""),
        f"Trial:    {settings.trial_start.isoformat()} to {settings.counted_until.isoformat()} "
        f"({settings.trial_months} months, {settings.trial_weeks} weeks; the review is due on "
        f"{settings.trial_end.isoformat()})",
    ]


def _trial_start(text_value: str, today: dt.date) -> dt.date:
    from peerloop.core.parse import dates

    day = dates.parse_day(text_value, today, "onward")
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(
            f"{day.isoformat()} is outside the years peerloop plans in ({EARLIEST_DAY.year} to {LATEST_DAY.year})"
        )
    return day


def init(
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", help="Your name, as peers see it on invites.")
    ] = None,
    email: Annotated[
        str | None,
        typer.Option("--email", metavar="EMAIL", help="Your email (needed for `peerloop invite`)."),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            metavar="ZONE",
            help="Your time zone: a city (New York) or an IANA name (Europe/Berlin).",
        ),
    ] = None,
    day: Annotated[
        Weekday | None,
        typer.Option("--day", help="Weekday you keep for peer meetings.", case_sensitive=False),
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", metavar="TIME", help="Start time: 08:30, 8.30 or 8:30am.")
    ] = None,
    coffee_time: Annotated[
        str | None,
        typer.Option("--coffee-time", metavar="TIME", help="Start time for coffee (default: --time)."),
    ] = None,
    lunch_time: Annotated[
        str | None,
        typer.Option("--lunch-time", metavar="TIME", help="Start time for lunch (default: --time)."),
    ] = None,
    call_time: Annotated[
        str | None,
        typer.Option("--call-time", metavar="TIME", help="Start time for calls (default: --time)."),
    ] = None,
    duration: Annotated[
        int | None,
        typer.Option("--duration", metavar="MINUTES", min=5, max=1440, help="Meeting length in minutes."),
    ] = None,
    mode: Annotated[
        Mode | None,
        typer.Option("--mode", help="Your usual way to meet.", case_sensitive=False, show_default=False),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", metavar="DATE", help="First day of the six-month trial: 2027-01-04, mon, next mon."
        ),
    ] = None,
    peer: Annotated[
        list[str] | None,
        typer.Option("--peer", metavar="NAME", help="A peer to add (repeat for each of your 4 to 5 peers)."),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Confirm a change that moves a running trial (its start).")
    ] = False,
    encrypt: Annotated[
        bool,
        typer.Option(
            "--encrypt", help="Keep the roster and the journal encrypted (age files; see `peerloop encrypt`)."
        ),
    ] = False,
    passphrase_command: options.PassphraseCommand = None,
    passphrase_env: options.PassphraseEnv = None,
    keyring: options.PassphraseKeyring = False,
    identity: options.IdentityFile = None,
) -> None:
    """Set up: you, your weekly slot, your peers.

    Who you are, the weekday and time you keep for peer meetings (a time per mode if lunch is not at
    breakfast time), the trial's start, and the peers you will meet. On a terminal it asks for anything
    not given as a flag; run it again to change the settings (nothing is wiped). Moving the start of a
    trial that is running asks first (or needs --yes).

    Examples:

      peerloop init

      peerloop init --name "Dana Ode" --timezone Europe/Berlin --time 08:30 --lunch-time 12:30
    """
    store = options.store()
    keyed = bool(passphrase_command or passphrase_env or keyring or identity)
    if keyed and not encrypt:
        raise InputError("the passphrase and identity options go with --encrypt")
    new_key = None
    if encrypt and not store.folder.sealed():
        new_key = options.new_key(store, passphrase_command, passphrase_env, keyring, identity)
    elif keyed:
        raise InputError("the journal is already encrypted; `peerloop encrypt` changes its key")
    current = store.load_roster().settings
    if current is not None and prompts.interactive():
        text.message("Current settings (Enter keeps each one):")
        for line in settings_lines(current):
            text.message("  " + line)
    given = _given(current, name, email, timezone, day, time, duration, mode, start,
                   {Mode.COFFEE: coffee_time, Mode.LUNCH: lunch_time, Mode.CALL: call_time})  # fmt: skip
    names = [parse_flag(item, "--peer", values.clean_name) for item in peer or []]
    details: dict[str, dict[str, Any]] = {}
    if not names and not store.load_roster().peers and prompts.interactive():
        text.message("\nWho will you meet? Choose 4 to 5 peers, in your company or at another one.")
        names = [parse_flag(item, "a name", values.clean_name) for item in prompts.ask_list("Their names")]
        details = _ask_peer_details(names)
    skipped: list[str] = []
    with store.change():
        roster = store.load_roster()  # the latest: a change made since the questions is kept
        before = roster.settings
        settings = _merged(before, given)
        _confirm_moves(before, settings, yes)
        today = clock.today(settings.timezone)
        updated = roster._replace(settings=settings)
        for peer_name in names:
            if updated.find(peer_name):
                skipped.append(peer_name)
                continue
            updated = add_peer(updated, Peer(name=peer_name, added=today, **details.get(peer_name, {})))
        if new_key is not None:  # the same change encrypts every file
            store.reseal(new_key.encryption, new_key.key, new_key.key_file)
        store.save_roster(updated)
    if new_key is not None:
        from peerloop import shell_prompt

        shell_prompt.forget(str(store.home))
    text.out(("Updated" if before else "Saved") + f" your settings in {store.roster_path}")
    for line in settings_lines(settings):
        text.out("  " + line)
    if (settings.trial_start - today).days > 8 * 7:  # "Jan 3" typed on 5 January is next year's
        weeks = (settings.trial_start - today).days // 7
        text.message(
            f"The trial starts {weeks} weeks from today; to start sooner, `peerloop init --start DATE`."
        )
    for peer_name in skipped:
        text.message(f"{safe(peer_name)} is already in the roster; kept as is.")
    if updated.peers:
        _show_first_weeks(store, len(updated.peers))
    warn_roster(updated, ask=True)
    if before is None and prompts.interactive():
        _offer_thoughts(store, settings)


def _ask_peer_details(names: list[str]) -> dict[str, dict[str, Any]]:
    """On a terminal, each new peer's e-mail (for invitations) and way to meet; Enter skips either."""
    if names:
        text.message("Their e-mail (for `peerloop invite`) and how you meet them; Enter skips either.")
    details = {}
    for name in names:
        email = prompts.ask_optional(f"{safe(name)}'s e-mail", values.check_email)
        mode = prompts.ask_optional(
            f"{safe(name)}: coffee, lunch or call (Enter: your usual)", values.parse_mode
        )
        details[name] = {"email": email, "mode": mode}
    return details


def _offer_thoughts(store: Store, settings: Settings) -> None:
    """The end of the guided set-up on a terminal: the coaching thoughts, if the leader wants them now."""
    from peerloop.actions.reflect import save_thoughts
    from peerloop.output.coaching import ask_thoughts, say_saved

    question = "Take five minutes for the coaching thoughts now? (`peerloop reflect` asks them any time)"
    try:
        if not prompts.confirm("\n" + question):
            return
    except prompts.EndOfInput:  # an optional question: the set-up is done
        return
    try:
        thoughts = ask_thoughts(store.load_roster())
    except prompts.EndOfInput:  # the set-up is saved: the thoughts wait for `peerloop reflect`
        text.message(
            "The coaching thoughts were not saved (your settings are); run `peerloop reflect` later."
        )
        return
    if thoughts.empty:
        say_saved(None, (), store.load_roster(), settings)
        return
    saved = save_thoughts(store, thoughts, clock.today(settings.timezone))
    say_saved(saved.reflection, saved.added, saved.roster, settings)


def _given(
    current: Settings | None,
    name: str | None,
    email: str | None,
    timezone: str | None,
    day: Weekday | None,
    time: str | None,
    duration: int | None,
    mode: Mode | None,
    start: str | None,
    mode_times: dict[Mode, str | None],
) -> dict[str, Any]:
    """The settings fields given as flags or answered at prompts (validated; nothing is written yet)."""
    asking = prompts.interactive()
    given: dict[str, Any] = {}
    zone_default = current.timezone if current else clock.local_zone() or "UTC"
    if name is not None or asking or current is None:
        given["name"] = resolve(
            name, "--name", "Your name", values.clean_name, current.name if current else None
        )
    if email is not None:
        given["email"] = parse_flag(email, "--email", values.check_email) if email.strip() else None
    elif asking:
        given["email"] = prompts.ask_optional(
            "Your email (for invites to peers; Enter to skip)",
            values.check_email,
            current.email if current else None,
        )
    if timezone is not None or asking or current is None:
        given["timezone"] = resolve(
            timezone, "--timezone", "Your time zone (a city or an IANA name)", values.parse_zone, zone_default
        )
    zone = given.get("timezone", zone_default)
    today = clock.today(zone)
    if day is not None or asking or current is None:
        default_day = WEEKDAYS[current.weekday] if current else "tue"
        given["weekday"] = resolve(
            day.value if day else None,
            "--day",
            "Weekday for peer meetings (mon..sun)",
            values.parse_weekday,
            default_day,
        )
    if time is not None or asking or current is None:
        given["time"] = resolve(time, "--time", "Start time (e.g. 08:30 or 8:30am)", values.parse_time,
                                f"{current.time:%H:%M}" if current else "08:30")  # fmt: skip
    times = dict(current.mode_times) if current else {}
    for each, value in mode_times.items():
        if value is not None:
            times.pop(each, None)
            if value.strip():
                times[each] = parse_flag(value, f"--{each.value}-time", values.parse_time)
    if any(value is not None for value in mode_times.values()):
        given["mode_times"] = times
    if duration is not None or asking or current is None:
        given["duration"] = resolve(
            None if duration is None else str(duration),
            "--duration",
            "Length in minutes",
            values.parse_duration,
            str(current.duration) if current else "45",
        )
    if mode is not None or asking or current is None:
        given["mode"] = mode if mode is not None else resolve(
            None, "--mode", "Usual format (coffee, lunch, call)", values.parse_mode,
            current.mode.value if current else Mode.COFFEE.value,
        )  # fmt: skip
    if asking and all(value is None for value in mode_times.values()):
        shown = ", ".join(f"{mode.value} {times[mode]:%H:%M}" for mode in Mode if mode in times) or None
        answer = prompts.ask_optional(
            "A different time for some modes? e.g. lunch 12:30, call 17:00 (Enter: the same for all)",
            values.parse_mode_times, shown,
        )  # fmt: skip
        given["mode_times"] = answer or {}
    if start is not None or asking or current is None:
        default_start = (current.trial_start if current else today).isoformat()
        given["trial_start"] = resolve(
            start, "--start", "Trial start (YYYY-MM-DD, Jan 4, mon, next mon…)",
            lambda value: _trial_start(value, today), default_start,
        )  # fmt: skip
    return given


def _merged(current: Settings | None, given: dict[str, Any]) -> Settings:
    if current is None:
        missing = [key for key in ("name", "timezone", "weekday", "time", "trial_start") if key not in given]
        if missing:
            raise MissingValueError(f"--{missing[0]} is required (no terminal to ask on)")
        return Settings(
            name=given["name"], email=given.get("email"), timezone=given["timezone"], weekday=given["weekday"],
            time=given["time"], duration=given.get("duration", 45), mode=given.get("mode", Mode.COFFEE),
            trial_start=given["trial_start"], mode_times=given.get("mode_times", {}),
        )  # fmt: skip
    merged = current._replace(**given)
    if merged.trial_start != current.trial_start:
        merged = merged._replace(stopped_on=None)  # a new start is a new trial, not yet reviewed
    return merged


def _confirm_moves(before: Settings | None, after: Settings, yes: bool) -> None:
    """A running trial's start moves only when the leader says so: on a terminal they are asked, else --yes."""
    if before is None or before.trial_start == after.trial_start or before.stopped_on is not None:
        return  # nothing to ask: no trial, the same start, or a trial that was stopped
    today = clock.today(after.timezone)
    if today < before.trial_start:
        return  # the trial has not started yet: nothing runs to be moved
    from peerloop.core.trial import trial_week

    week = trial_week(before, today)
    if week < 1:
        return  # its first week has not come: nothing runs to be moved
    question = (
        f"Your trial is running (week {week}, started {before.trial_start.isoformat()}). Move its start to "
        f"{after.trial_start.isoformat()}? Its weeks and review date move with it"
    )
    if yes:
        text.message(
            f"Moved the trial's start from {before.trial_start.isoformat()} to {after.trial_start.isoformat()}."
        )
        return
    if not prompts.interactive():
        raise InputError(
            f"--start {after.trial_start.isoformat()} would move your running trial (week {week}, started "
            f"{before.trial_start.isoformat()}); pass --yes to move it"
        )
    if not prompts.confirm(question):
        raise Declined("The trial's start was kept; nothing was changed.")


def _show_first_weeks(store: Any, count: int) -> None:
    from peerloop.core import rotation
    from peerloop.output.tables import plan_table
    from peerloop.store.session import Session

    session = Session(store)
    slots = rotation.plan(session.roster, session.settings, session.history(), session.today, max(5, count))
    text.out()
    text.out_wrapped("The coming weeks (`peerloop plan` shows the whole trial):")
    plan_table(slots, session.settings, wide_command="peerloop plan")
