"""A small client for ONE CalDAV calendar collection, over python-caldav's DAVClient.

python-caldav does the HTTP side (auth negotiation, the system CA store through niquests, timeouts) and
parses the multistatus answers; the requests themselves are written here because sync needs exact
preconditions: create with If-None-Match: *, change and delete with If-Match: ETag, so that an event the
leader edited in their calendar app is reported instead of overwritten. Every failure becomes one
peerloop error line that names the server, never the password.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote, urljoin, urlsplit
from xml.sax.saxutils import escape, quoteattr

from peerloop.connect import calendar_fields, host_of, redacted
from peerloop.core.calendar.reconcile import Action, Applied, Kind, Refused, Remote
from peerloop.errors import InputError, LoginRefusedError, RemoteRefusedError, UnreachableError

if TYPE_CHECKING:
    from caldav.davclient import DAVClient
    from caldav.response import DAVResponse

    from peerloop.core.connections import CalDav

T = TypeVar("T")
_C = "urn:ietf:params:xml:ns:caldav"
_XML = '<?xml version="1.0" encoding="utf-8"?>\n'
_ICS = {"Content-Type": "text/calendar; charset=utf-8"}
_PHRASES = {
    status.value: status.phrase for status in HTTPStatus
}  # not the server's words: they are its to choose


@dataclass(frozen=True)
class Conflict:
    """The server refused a conditional request (412): the event is not what we last saw."""

    href: str


def open(url: str, user: str, password: str, *, ca_file: Path | None = None, timeout: int = 30) -> Calendar:
    """Log in and check that `url` is a calendar collection; raises a peerloop error otherwise."""
    from caldav.davclient import DAVClient

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"'{redacted(url, keep_path=True)}' is not a calendar URL: give the full https://... address of the calendar"
        )
    if parts.password is not None:
        raise InputError("the calendar URL contains a password: remove it and use a password command instead")
    if ca_file is not None and not ca_file.is_file():
        raise InputError(f"no certificate file at {ca_file}: give the server's PEM certificate file")
    if not logging.getLogger("caldav").handlers:
        logging.getLogger("caldav").addHandler(logging.NullHandler())  # peerloop says what went wrong
    collection = url if url.endswith("/") else url + "/"
    client = DAVClient(collection, username=user, password=password, timeout=timeout,
                       ssl_verify_cert=str(ca_file) if ca_file else True, enable_rfc6764=False)  # fmt: skip
    calendar = Calendar(client, collection, user)
    try:
        calendar.check()
    except BaseException:
        calendar.close()
        raise
    return calendar


class Calendar:
    """One calendar collection; use it as a context manager so the connection is closed."""

    def __init__(self, client: DAVClient, url: str, user: str) -> None:
        self.client, self.url, self.user = client, url, user

    def __enter__(self) -> Calendar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def check(self) -> None:
        """PROPFIND the collection: the login works, it exists, it is a calendar."""
        body = f'{_XML}<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>'
        response = self._send("PROPFIND", self.url, body, {"Depth": "0"})
        tree = response.tree
        statuses = [status.text or "" for status in tree.iter("{DAV:}status")] if tree is not None else []
        if response.status == 404 or (statuses and all(" 404 " in status for status in statuses)):
            raise RemoteRefusedError(
                f"there is no calendar at {redacted(self.url, keep_path=True)}: check the URL (copy the calendar's CalDAV address from the server)"
            )
        self._expect(response, {207}, "read the calendar")
        if tree is None or tree.find(f".//{{{_C}}}calendar") is None:
            raise RemoteRefusedError(
                f"{redacted(self.url, keep_path=True)} is not a calendar but a folder or a page: give the address of the calendar itself"
            )

    def list_events(self, uid_prefix: str) -> dict[str, Remote]:
        """The events whose UID starts with `uid_prefix`: href and ETag, asking the server for the UIDs only."""
        calendar_data = ('<C:calendar-data><C:comp name="VCALENDAR"><C:comp name="VEVENT"><C:prop name="UID"/>'
                         "</C:comp></C:comp></C:calendar-data>")  # fmt: skip
        match = f'<C:prop-filter name="UID"><C:text-match collation="i;octet">{escape(uid_prefix)}</C:text-match></C:prop-filter>'
        found = {}
        for href, etag, data in self._query(calendar_data, match):
            uid = calendar_fields(data).get("UID")
            if uid is not None and uid.startswith(uid_prefix):
                found[uid] = (href, etag)
        if any(etag is None for _, etag in found.values()):
            etags = self._etags(self.url, "1", "list the events")
            found = {uid: (href, etag or etags.get(href)) for uid, (href, etag) in found.items()}
        return {uid: Remote(href, etag) for uid, (href, etag) in found.items() if etag}

    def create(self, uid: str, ics: bytes) -> Remote | Conflict:
        """PUT a new event at <calendar>/<uid>.ics; If-None-Match: * so an existing one is never replaced."""
        href = urlsplit(self.url).path + quote(uid, safe="") + ".ics"
        return self._put(href, ics, {"If-None-Match": "*"})

    def update(self, href: str, ics: bytes, etag: str | None) -> Remote | Conflict:
        """Replace an event if its ETag is still `etag` (None: overwrite whatever is there)."""
        return self._put(href, ics, {"If-Match": etag} if etag else {})

    def delete(self, href: str, etag: str | None) -> Conflict | None:
        """Delete an event if its ETag is still `etag`; an event already gone counts as deleted."""
        response = self._send("DELETE", self._url(href), "", {"If-Match": etag} if etag else None)
        if response.status == 412:
            return Conflict(href)
        if response.status != 404:
            self._expect(response, {200, 204}, f"delete {href}")
        return None

    def send(self, action: Action) -> Applied | Refused:
        """One sync change, answered: accepted (where the event now is, or gone) or refused (412: the event
        changed between listing and sending)."""
        if action.kind is Kind.DELETE and action.href:
            outcome: Remote | Conflict | None = self.delete(action.href, action.etag)
        elif action.kind is Kind.CREATE and action.ics is not None:
            outcome = self.create(action.uid, action.ics)
        elif action.kind is Kind.UPDATE and action.href and action.ics is not None:
            outcome = self.update(action.href, action.ics, action.etag)
        else:
            raise ValueError(f"nothing to send for {action.kind} {action.uid}")
        if isinstance(outcome, Conflict):
            return Refused(action.uid, "changed on the server during the sync")
        if outcome is None:
            return Applied(action.uid, None, None)
        return Applied(action.uid, outcome.href, outcome.etag)

    def read(self, href: str) -> str:
        """One event's iCalendar text as the server stores it."""
        response = self._send("GET", self._url(href))
        self._expect(response, {200}, f"read {href}")
        return str(response.raw)

    def events_between(self, start: dt.datetime, end: dt.datetime, *, exclude_uid_prefix: str) -> list[bytes]:
        """The raw iCalendar of every event overlapping [start, end), except peerloop's own."""
        low, high = (
            quoteattr(moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")) for moment in (start, end)
        )
        match = f'<C:comp-filter name="VEVENT"><C:time-range start={low} end={high}/></C:comp-filter>'
        events = []
        for _, _, data in self._query("<C:calendar-data/>", match, nested=False):
            uid = calendar_fields(data).get("UID")
            if uid is None or not uid.startswith(exclude_uid_prefix):
                events.append(data.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))
        return events

    # --- requests -------------------------------------------------------------------------------------------

    def _query(
        self, calendar_data: str, match: str, *, nested: bool = True
    ) -> list[tuple[str, str | None, str]]:
        """A calendar-query REPORT: (href, etag, calendar data) of each VEVENT resource that matches."""
        inner = f'<C:comp-filter name="VEVENT">{match}</C:comp-filter>' if nested else match
        body = (f'{_XML}<C:calendar-query xmlns:D="DAV:" xmlns:C="{_C}"><D:prop><D:getetag/>{calendar_data}'
                f'</D:prop><C:filter><C:comp-filter name="VCALENDAR">{inner}</C:comp-filter></C:filter>'
                "</C:calendar-query>")  # fmt: skip
        response = self._send("REPORT", self.url, body, {"Depth": "1"})
        self._expect(response, {207}, "list the events")
        results = self._parsed(response.parse_calendar_query)
        return [(r.href, r.etag, r.calendar_data or "") for r in results if r.status == 200]

    def _etags(self, url: str, depth: str, doing: str) -> dict[str, str]:
        """href -> ETag of what `url` holds (Depth 1: every resource of the collection), for servers that leave
        ETags out of a REPORT or answer a PUT without one."""
        body = f'{_XML}<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>'
        response = self._send("PROPFIND", url, body, {"Depth": depth})
        self._expect(response, {207}, doing)
        return {r.href: str(r.properties[tag]) for r in self._parsed(response.parse_propfind)
                for tag in ["{DAV:}getetag"] if r.properties.get(tag)}  # fmt: skip

    def _put(self, href: str, ics: bytes, condition: dict[str, str]) -> Remote | Conflict:
        response = self._send("PUT", self._url(href), ics.decode("utf-8"), {**_ICS, **condition})
        if response.status == 412:
            return Conflict(href)
        self._expect(response, {200, 201, 204}, f"save {href}")
        location = response.headers.get("Location")
        if location:
            href = urlsplit(urljoin(self.url, location)).path
        etag = _strong(response.headers.get("ETag"))
        if etag is None:  # asked for, from a server that answers a PUT without one
            etag = next(iter(self._etags(self._url(href), "0", f"read the ETag of {href}").values()), None)
        if etag is None:
            raise RemoteRefusedError(
                f"{host_of(self.url)} gave no ETag for {href}: this server cannot be synced safely"
            )
        return Remote(href, etag)

    def _url(self, href: str) -> str:
        return urljoin(self.url, quote(href, safe="/@:!$&'()*+,;=-._~%"))

    def _send(
        self, method: str, url: str, body: str = "", headers: dict[str, str] | None = None
    ) -> DAVResponse:
        """One request; transport and login failures become peerloop errors here."""
        from caldav.lib import error
        from niquests import exceptions

        try:
            return self.client.request(url, method, body, headers or {})
        except error.AuthorizationError as failure:
            if failure.status == 403:
                raise LoginRefusedError(
                    f"{host_of(url)} does not let user '{self.user}' use {redacted(self.url, keep_path=True)}: check the user name and the calendar URL"
                ) from None
            raise LoginRefusedError(
                f"{host_of(url)} refused the login of user '{self.user}': check the user name and the password"
            ) from None
        except error.RateLimitError:
            raise RemoteRefusedError(
                f"{host_of(url)} is busy or rate-limiting (HTTP 429/503): try again later"
            ) from None
        except exceptions.SSLError:
            raise UnreachableError(
                f"the TLS certificate of {host_of(url)} is not trusted: for a self-signed server, name its certificate file"
            ) from None
        except exceptions.Timeout:
            raise UnreachableError(
                f"{host_of(url)} did not answer in time: check the server and the network, then retry"
            ) from None
        except SyntaxError:  # lxml's XMLSyntaxError: an answer that claims to be XML but is not
            raise RemoteRefusedError(f"{host_of(url)} sent an answer that is not valid CalDAV") from None
        except (exceptions.RequestException, OSError):
            raise UnreachableError(
                f"cannot reach {host_of(url)}: check the URL, the network and that the server is running"
            ) from None

    def _expect(self, response: DAVResponse, ok: set[int], doing: str) -> None:
        if response.status in ok:
            return
        if response.status == 404:
            raise RemoteRefusedError(
                f"{host_of(self.url)} has no {redacted(self.url, keep_path=True)} any more (could not {doing}): check the calendar URL"
            )
        phrase = _PHRASES.get(response.status, "")
        raise RemoteRefusedError(
            f"{host_of(self.url)} refused to {doing}: HTTP {response.status} {phrase}".rstrip()
        )

    def _parsed(self, parse: Callable[[], list[T]]) -> list[T]:
        """Parse a multistatus answer; a malformed one is the server's fault, said in one line."""
        from caldav.lib import error

        try:
            return parse()
        except (error.DAVError, AssertionError, ValueError):
            raise RemoteRefusedError(f"{host_of(self.url)} sent an answer that is not valid CalDAV") from None


def _strong(etag: str | None) -> str | None:
    """An ETag usable in If-Match: a weak one (W/...) never matches, so it is as good as none."""
    return etag if etag and not etag.startswith("W/") else None


def open_connected(connection: CalDav) -> Calendar:
    """The connected calendar (`peerloop connect caldav`), its password fetched from where it was said to be."""
    from peerloop.connect import secrets

    password = secrets.password(connection.password, connection.user)
    return open(connection.url, connection.user, password, ca_file=connection.ca_file)
