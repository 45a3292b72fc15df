"""The outside world, opt-in: `connect` (caldav, smtp, sendmail, busy), `disconnect`, and `sync`.

Connections live in connections.toml, never with a password: a connection names a password command, an
environment variable or the keyring, read only when a command needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from peerloop import options, prompts
from peerloop.connect import redacted
from peerloop.core.connections import (
    LOCAL_HOSTS,
    BusyFeed,
    CalDav,
    Connections,
    PasswordSource,
    Sendmail,
    Smtp,
)
from peerloop.core.models import WEEKDAYS
from peerloop.core.parse import parse_flag
from peerloop.errors import ConflictError, InputError
from peerloop.output import text
from peerloop.store.records import Store

app = typer.Typer(
    name="connect",
    help="Connect a CalDAV calendar, a mail server or command, or busy-time feeds (no passwords are kept).",
    invoke_without_command=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

PasswordCommand = Annotated[
    str | None,
    typer.Option(
        "--password-command",
        metavar="CMD",
        help='A command that prints the password, e.g. "pass show caldav".',
    ),
]
PasswordEnv = Annotated[
    str | None,
    typer.Option("--password-env", metavar="VAR", help="An environment variable holding the password."),
]
Keyring = Annotated[bool, typer.Option("--keyring", help="Take the password from the system keyring.")]
CaFile = Annotated[
    Path | None,
    typer.Option(
        "--ca-file",
        metavar="FILE",
        help="Trust this certificate (a self-signed server's), as well as the system's.",
    ),
]
NoCheck = Annotated[bool, typer.Option("--no-check", help="Save without trying the connection first.")]


def save(store: Store, change: Callable[[Connections], Connections]) -> Connections:
    """Read, change and write connections.toml under one lock; the connections as they were before."""
    with store.change():
        before = store.connections()
        store.save_connections(change(before))
    return before


def password_source(command: str | None, env: str | None, keyring: bool, needed: bool) -> PasswordSource:
    sources = {"--password-command": command, "--password-env": env, "--keyring": keyring}
    given = options.one_source(sources, "password source", "--password-env", env, "CALDAV_PASSWORD")
    if needed and not given:
        raise InputError(
            "give where the password comes from: --password-command CMD, --password-env VAR or --keyring "
            "(peerloop never stores a password)"
        )
    return PasswordSource(command=command, env=env, keyring=keyring)


def checked_ca_file(ca_file: Path | None) -> Path | None:
    if ca_file is None:
        return None
    path = ca_file.expanduser().resolve()
    if not path.is_file():
        raise InputError(f"--ca-file {ca_file}: no such file; give the server's certificate (PEM)")
    return path


@app.callback()
def connect(ctx: typer.Context, json: options.JsonOption = False) -> None:
    """List the connections, or connect one (see the commands below).

    Examples:

      peerloop connect

      peerloop connect caldav https://cloud.example.com/remote.php/dav/calendars/dana/peers/ --user dana --password-command "pass show nextcloud"
    """
    if ctx.invoked_subcommand is not None:
        return
    found = options.store().connections()
    caldav, smtp = found.caldav, found.smtp
    rows = []
    if caldav:
        rows.append(("caldav", caldav.url, f"user {caldav.user}, password {caldav.password.describe()}"))
    if smtp:
        login = f"user {smtp.user}, password {smtp.password.describe()}" if smtp.user else "no login"
        rows.append(("smtp", f"{smtp.host}:{smtp.port} ({smtp.security})", login))
    if found.sendmail:
        rows.append(("sendmail", found.sendmail.command, ""))
    rows += [("busy", redacted(feed.source), "") for feed in found.busy]
    if json:
        from peerloop.output.json import emit_json

        emit_json([{"kind": kind, "where": where, "how": how} for kind, where, how in rows])
    elif not rows:
        text.message("No connections yet: `peerloop connect caldav URL --user NAME` connects your calendar.")
    else:
        from peerloop.output.tables import CONNECTIONS_COLUMNS, show

        show(CONNECTIONS_COLUMNS, rows)


@app.command("caldav")
def connect_caldav(
    url: Annotated[str, typer.Argument(metavar="URL", help="The calendar collection's address (https).")],
    user: Annotated[
        str | None, typer.Option("--user", metavar="NAME", help="Your user name on the server.")
    ] = None,
    password_command: PasswordCommand = None,
    password_env: PasswordEnv = None,
    keyring: Keyring = False,
    ca_file: CaFile = None,
    no_check: NoCheck = False,
) -> None:
    """Connect your CalDAV calendar, for `peerloop sync` (and busy times).

    Nextcloud, Fastmail, iCloud (an app-specific password), Radicale; Google needs the .ics import instead.

    Examples:

      peerloop connect caldav https://caldav.fastmail.com/dav/calendars/user/dana@fastmail.com/Default/ --user dana@fastmail.com --password-env FASTMAIL_APP_PASSWORD
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(f"{url!r} is not a calendar address; give the https URL of the calendar collection")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise InputError(
            "a password must not travel in clear text: use https (http only for a server on this machine)"
        )
    if parts.username or parts.password:
        raise InputError("leave the user and password out of the URL: --user NAME and a password source")
    if user is None:  # asked until answered on a terminal
        if not prompts.interactive():
            raise InputError("--user is required: your user name on the calendar server")
        user = prompts.ask("Your user name on the server", str.strip, "--user")
    source = password_source(password_command, password_env, keyring, needed=True)
    connection = CalDav(
        url if url.endswith("/") else url + "/", user.strip(), source, checked_ca_file(ca_file)
    )
    if not no_check:
        from peerloop.connect import caldav

        with caldav.open_connected(connection):
            pass
    save(options.store(), lambda found: found._replace(caldav=connection))
    checked = "" if no_check else " (checked: the calendar answered)"
    text.out(f"Connected the calendar at {connection.url}{checked}. `peerloop sync` brings it up to date.")


class Security(StrEnum):
    """How the connection to the mail server is protected."""

    STARTTLS = "starttls"
    SSL = "ssl"
    NONE = "none"


@app.command("smtp")
def connect_smtp(
    host: Annotated[str, typer.Argument(metavar="HOST", help="The mail server, e.g. smtp.fastmail.com.")],
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Default: 587 (starttls), 465 (ssl), 25.")
    ] = None,
    security: Annotated[
        Security,
        typer.Option("--security", help="How the connection is protected.", case_sensitive=False),
    ] = Security.STARTTLS,
    user: Annotated[
        str | None, typer.Option("--user", metavar="NAME", help="Your login (none: no login).")
    ] = None,
    password_command: PasswordCommand = None,
    password_env: PasswordEnv = None,
    keyring: Keyring = False,
    ca_file: CaFile = None,
) -> None:
    """Send invitations (`invite --send`) through an SMTP server.

    Examples:

      peerloop connect smtp smtp.fastmail.com --user dana@fastmail.com --keyring
    """
    if security is Security.NONE and host not in LOCAL_HOSTS:
        raise InputError("--security none sends your mail in clear text: only for a server on this machine")
    source = password_source(password_command, password_env, keyring, needed=user is not None)
    if user is None and source.given:
        raise InputError("a password source needs --user NAME (the login it belongs to)")
    chosen = port or {Security.STARTTLS: 587, Security.SSL: 465, Security.NONE: 25}[security]
    connection = Smtp(host.strip(), chosen, security.value, user, source, checked_ca_file(ca_file))
    before = save(options.store(), lambda found: found._replace(smtp=connection, sendmail=None))
    replaced = f" It replaces the command `{before.sendmail.command}`." if before.sendmail else ""
    text.out(
        f"Connected the mail server {connection.host}:{chosen} ({security}). `peerloop invite NAME --send` "
        f"uses it.{replaced}"
    )


@app.command("sendmail")
def connect_sendmail(
    command: Annotated[
        str,
        typer.Argument(metavar="CMD", help="A sendmail-compatible command that reads the message on stdin."),
    ],
) -> None:
    """Send invitations (`invite --send`) through a sendmail-compatible command, as git send-email does.

    Examples:

      peerloop connect sendmail "msmtp -t"
    """
    import shlex

    try:
        words = shlex.split(command)
    except ValueError as error:
        raise InputError(f"{command!r} cannot be read as a command: {error}") from None
    if not words:
        raise InputError('give the command, e.g. "msmtp -t"')
    before = save(options.store(), lambda found: found._replace(sendmail=Sendmail(command), smtp=None))
    replaced = f" It replaces the mail server {before.smtp.host}:{before.smtp.port}." if before.smtp else ""
    text.out(f"Invitations will be sent with `{command}`.{replaced}")


@app.command("busy")
def connect_busy(
    source: Annotated[
        str | None,
        typer.Argument(metavar="FILE-OR-URL", help="An .ics file or an https iCal feed (a secret address)."),
    ] = None,
    ca_file: CaFile = None,
    hours: Annotated[
        str | None,
        typer.Option(
            "--hours", metavar="HH:MM-HH:MM", help="Meeting hours a moved meeting may use (08:00-18:00)."
        ),
    ] = None,
    days: Annotated[
        str | None,
        typer.Option("--days", metavar="DAYS", help="Meeting days, e.g. mon-fri or mon,tue,thu (mon-fri)."),
    ] = None,
    keep_summaries: Annotated[
        bool | None,
        typer.Option(
            "--keep-summaries/--no-summaries", help="Keep busy events' titles, to say why a meeting moved."
        ),
    ] = None,
) -> None:
    """Add a calendar whose events make you busy: plan, next and export move meetings around them.

    A meeting whose slot is busy moves to the nearest free time of the same length that week, within
    your meeting hours and days (same day first, then the following days); a week with no free time is
    flagged. Only the start and end of busy events are kept (and their titles with --keep-summaries);
    `peerloop sync` (or `plan --refresh`) fetches them. Your connected CalDAV calendar counts too.

    Examples:

      peerloop connect busy ~/calendars/work.ics

      peerloop connect busy --hours 09:00-17:30 --days mon-thu --keep-summaries
    """
    rules = _free_time_changes(hours, days, keep_summaries)
    if source is None:
        if not rules:
            raise InputError("give a FILE-OR-URL to add, or --hours, --days or --keep-summaries to change")
        store = options.store()
        save(store, lambda found: found._replace(free_time=found.free_time._replace(**rules)))
        meeting = store.connections().free_time
        text.out(
            f"Moved meetings may use {', '.join(WEEKDAYS[d] for d in sorted(meeting.days))}, "
            f"{meeting.start:%H:%M}-{meeting.end:%H:%M}."
        )
        return
    parts = urlsplit(source)
    if parts.scheme in ("http", "https", "webcal"):
        if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
            raise InputError("use the feed's https address (http only for a server on this machine)")
        kept = source
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            what = "not a regular file (a folder, a pipe or a device?)" if path.exists() else "no such file"
            raise InputError(f"{source}: {what}; give an .ics file or an https feed address")
        kept = str(path.resolve())
    feed = BusyFeed(kept, checked_ca_file(ca_file))

    def add(found: Connections) -> Connections:
        if any(existing.source == kept for existing in found.busy):
            raise ConflictError(f"{redacted(kept)} is already connected")
        return found._replace(busy=(*found.busy, feed), free_time=found.free_time._replace(**rules))

    save(options.store(), add)
    text.out(f"Added {redacted(kept)} as busy time. `peerloop plan --refresh` (or `peerloop sync`) reads it.")


def disconnect(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="caldav, smtp, sendmail or busy.")],
    source: Annotated[
        str | None, typer.Argument(metavar="[SOURCE]", help="With busy: which feed (default: all).")
    ] = None,
) -> None:
    """Forget a connection (nothing on the server changes).

    Examples:

      peerloop disconnect caldav
    """
    kinds = ("caldav", "smtp", "sendmail", "busy")
    if kind not in kinds:
        raise InputError(f"{kind!r} is not a connection; use one of {', '.join(kinds)}")

    def forget(found: Connections) -> Connections:
        if kind == "busy":
            kept = tuple(
                feed
                for feed in found.busy
                if source is not None and source not in (feed.source, redacted(feed.source))
            )
            if len(kept) == len(found.busy):
                raise ConflictError("no such busy feed; `peerloop connect` lists them")
            return found._replace(busy=kept)
        if getattr(found, kind) is None:
            raise ConflictError(f"no {kind} connection; `peerloop connect` lists them")
        changes: dict[str, Any] = {kind: None}
        return found._replace(**changes)

    save(options.store(), forget)
    text.out(f"Forgot the {kind} connection." if kind != "busy" else "Forgot the busy feed(s).")


def _free_time_changes(hours: str | None, days: str | None, keep_summaries: bool | None) -> dict[str, Any]:
    """--hours, --days and --keep-summaries as FreeTime fields (validated; the others unchanged)."""
    from peerloop.core.parse import values

    changes: dict[str, Any] = {}
    if hours is not None:
        first, _, last = hours.partition("-")
        start = parse_flag(first, "--hours", values.parse_time)
        end = parse_flag(last, "--hours", values.parse_time)
        if start >= end:
            raise InputError(f"--hours {hours}: the start must be before the end, e.g. 08:00-18:00")
        changes.update(start=start, end=end)
    if days is not None:
        chosen: set[int] = set()
        for part in days.replace(" ", "").split(","):
            first, _, last = part.partition("-")
            low = parse_flag(first, "--days", values.parse_weekday)
            high = parse_flag(last, "--days", values.parse_weekday) if last else low
            if high < low:
                raise InputError(f"--days {days}: write a range in week order, e.g. mon-fri")
            chosen |= set(range(low, high + 1))
        changes["days"] = frozenset(chosen)
    if keep_summaries is not None:
        changes["keep_summaries"] = keep_summaries
    return changes
