"""iMIP e-mail (RFC 6047): the invitation message, and handing it to an SMTP server or a sendmail command.

The stdlib modules are imported inside the functions, so that `invite --eml` or `--dry-run` never pays for
smtplib or ssl, and nothing here loads when peerloop starts.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

from peerloop.connect import calendar_fields, tls_context
from peerloop.connect.headers import address_header, unstructured_header
from peerloop.core.connections import LOCAL_HOSTS, SECURITIES
from peerloop.errors import InputError, LoginRefusedError, PeerloopError, RemoteRefusedError, UnreachableError
from peerloop.inert import one_line

if TYPE_CHECKING:
    import smtplib
    from email.headerregistry import Address
    from email.message import EmailMessage, MIMEPart
    from email.policy import EmailPolicy

METHODS = ("REQUEST", "CANCEL")


def imip_message(
    *,
    calendar: bytes,
    method: str,
    leader_name: str,
    leader_email: str,
    peer_name: str,
    peer_email: str,
    subject: str,
    body_text: str,
    filename: str,
    now: dt.datetime,
) -> EmailMessage:
    """The invitation shaped as CalConnect's iMIP best practices advise: Gmail shows Accept and Decline only
    for the inline `text/calendar; method=...` part, while some clients read only the `.ics` attachment."""
    import shlex
    from email.message import EmailMessage, MIMEPart
    from email.utils import format_datetime, make_msgid

    text = calendar.decode("utf-8")
    found = calendar_fields(text)
    if method not in METHODS or found.get("METHOD") != method:
        raise ValueError(
            f"an iMIP {method!r} needs a calendar with METHOD:{method}, not {found.get('METHOD')!r}"
        )
    sender = _address(leader_name, leader_email, "your", "`peerloop init --email ADDRESS`")
    fix = f"`peerloop edit {shlex.quote(one_line(peer_name))} --email ADDRESS`"
    recipient = _address(peer_name, peer_email, f"{one_line(peer_name)}'s", fix)
    policy = _policy()

    body = MIMEPart(policy=policy)
    body.set_content(body_text)
    invitation = MIMEPart(policy=policy)
    invitation.set_content(text, subtype="calendar", params={"method": method})
    alternative = MIMEPart(policy=policy)
    alternative.make_alternative()
    alternative.set_payload([body, invitation])
    attachment = MIMEPart(policy=policy)
    name = one_line(filename)
    attachment.set_content(
        calendar, "application", "ics", disposition="attachment", filename=name, params={"name": name}
    )

    message = EmailMessage(policy=policy)
    message.set_raw("From", address_header("From", sender))
    message.set_raw("To", address_header("To", recipient))
    message.set_raw("Subject", unstructured_header("Subject", one_line(subject)))
    message["Date"] = format_datetime(now.astimezone())
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["MIME-Version"] = "1.0"
    message.make_mixed()
    message.set_payload([alternative, attachment])
    return message


def eml_bytes(message: EmailMessage) -> bytes:
    """The message as a file any mail client opens; `X-Unsent: 1` makes Outlook open it as a draft to send."""
    return b"X-Unsent: 1\r\n" + message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def describe(message: EmailMessage) -> str:
    """What `--dry-run` shows: who, what, which calendar change and how the message is built; no bodies."""
    calendar = next((part for part in message.walk() if part.get_content_type() == "text/calendar"), None)
    found = calendar_fields(calendar.get_content()) if calendar is not None else {}
    change = "  ".join(f"{key}:{found[key]}" for key in ("METHOD", "UID", "SEQUENCE") if key in found)
    lines = [
        f"From:     {message['From']}",
        f"To:       {message['To']}",
        f"Subject:  {message['Subject']}",
        f"Calendar: {change or 'none'}",
        "Parts:",
    ]
    lines += _part_lines(message, depth=1)
    return "\n".join(lines)


def send_smtp(
    message: EmailMessage,
    *,
    host: str,
    port: int,
    security: str,
    user: str | None = None,
    password: str | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
) -> None:
    """Hand the message to an SMTP server and return only once it accepted it, so the caller may record the
    invitation as sent; every failure is one line without the password."""
    import smtplib

    if security not in SECURITIES:
        raise InputError(f"unknown security {security!r}; use starttls, ssl or none")
    if security == "none" and host.lower() not in LOCAL_HOSTS:
        raise InputError(
            f"security 'none' would send your login and the message in clear text to {host}; it is allowed only "
            "for a server on this machine (localhost, 127.0.0.1, ::1): use starttls (port 587) or ssl (port 465)"
        )
    if user and password is None:
        raise LoginRefusedError(f"no password for {user}; give --password-command or --password-env")
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    context = tls_context(ca_file) if security != "none" else None
    smtp: smtplib.SMTP | None = None
    try:
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        smtp.ehlo_or_helo_if_needed()
        if security == "starttls":
            if not smtp.has_extn("starttls"):
                raise UnreachableError(
                    f"{where} does not offer STARTTLS; use --security ssl (usually port 465)"
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if user:
            if not smtp.has_extn("auth"):
                raise LoginRefusedError(f"{where} does not offer a login (AUTH); send without a user name")
            smtp.login(user, password or "")
        refused = smtp.send_message(message)
    except PeerloopError:
        _close(smtp, polite=False)
        raise
    except (OSError, smtplib.SMTPException) as error:
        _close(smtp, polite=False)
        raise _smtp_error(error, where, user, password, timeout) from None
    _close(smtp, polite=True)
    if refused:
        address, (code, reply) = next(iter(refused.items()))
        raise RemoteRefusedError(
            f"{where} refused the recipient {address} ({_reply(code, reply, password)}); the others got it"
        )


def send_with_command(message: EmailMessage, command: str, timeout: float = 60.0) -> None:
    """Pipe the message to a sendmail-compatible command ("msmtp -t", "sendmail -t -oi"), as git send-email
    does; return only when the command accepted it (exit 0)."""
    import shlex
    import subprocess

    try:
        argv = shlex.split(command)
    except ValueError as error:
        raise InputError(
            f"cannot read the mail command {command!r} ({error}); quote it as in a shell"
        ) from None
    if not argv:
        raise InputError('the mail command is empty; give one such as "msmtp -t" or "sendmail -t -oi"')
    name = argv[0]
    data = message.as_bytes(policy=message.policy.clone(linesep="\n"))
    try:
        done = subprocess.run(argv, input=data, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise InputError(
            f"the mail command {name!r} was not found; install it, or give its full path, "
            'e.g. peerloop connect sendmail "/usr/sbin/sendmail -t -oi"'
        ) from None
    except OSError as error:
        raise InputError(
            f"the mail command {name!r} could not be started ({error.strerror}); check that it is a program "
            "you can run"
        ) from None
    except subprocess.TimeoutExpired:
        raise UnreachableError(
            f"the mail command {name!r} did not finish within {timeout:g} s; run it by hand to check its setup"
        ) from None
    if done.returncode != 0:
        said = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        status = f"exit {done.returncode}" if done.returncode > 0 else f"killed by signal {-done.returncode}"
        detail = one_line(said[-1]) if said else "nothing on stderr"
        raise RemoteRefusedError(f"the mail command {name!r} failed ({status}): {detail}")


def _policy() -> EmailPolicy[EmailMessage]:
    """CRLF lines, and only 7-bit bodies (quoted-printable or base64 when needed): smtplib never announces
    8BITMIME, so an 8-bit body could be mangled on the way."""
    from email.policy import SMTP

    return SMTP.clone(cte_type="7bit", refold_source="none")


def _address(name: str, email: str, owner: str, fix: str) -> Address:
    """A header address that cannot carry another header: names lose their line breaks and control
    characters, and the header encoding quotes commas and quotes and encodes non-ASCII."""
    from email.errors import HeaderParseError
    from email.headerregistry import Address

    spec = email.strip()
    if not spec.isascii():
        raise InputError(
            f"{owner} e-mail address {email!r} has non-ASCII characters, which peerloop cannot send to; "
            f"set an ASCII address with {fix}"
        )
    try:
        address = Address(display_name=one_line(name), addr_spec=spec)
    except (ValueError, IndexError, HeaderParseError):  # IndexError: Python 3.11 on 'ann@'
        address = None
    if address is None or not address.username or not address.domain:
        raise InputError(
            f"{owner} e-mail address {email!r} is not one a message can be sent to; fix it with {fix}"
        )
    return address


def _part_lines(part: MIMEPart, depth: int) -> list[str]:
    kind = part.get_content_type()
    method = part.get_param("method")
    if isinstance(method, str):
        kind += f"; method={method}"
    filename = part.get_filename()
    if part.is_multipart():
        return ["  " * depth + kind] + [
            line for child in part.iter_parts() for line in _part_lines(child, depth + 1)
        ]
    payload = part.get_payload(decode=True)
    size = len(payload) if isinstance(payload, bytes) else 0
    extra = f", attachment {filename!r}" if filename else ""
    return ["  " * depth + f"{kind} ({size} bytes{extra})"]


def _smtp_error(
    error: OSError | smtplib.SMTPException, where: str, user: str | None, password: str | None, timeout: float
) -> PeerloopError:
    """One line per failure, in the user's terms, with the server's own words when it gave any."""
    import smtplib
    import ssl

    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return UnreachableError(f"{where} did not answer within {timeout:g} s; check the host and port")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return LoginRefusedError(
            f"{where} refused the login for {user} ({_reply(error.smtp_code, error.smtp_error, password)}); "
            "check the user name and the password"
        )
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        address, (code, reply) = next(iter(error.recipients.items()))
        return RemoteRefusedError(
            f"{where} refused the recipient {address} ({_reply(code, reply, password)})"
        )
    if isinstance(error, smtplib.SMTPSenderRefused):
        said = _reply(error.smtp_code, error.smtp_error, password)
        if error.smtp_code == 530:  # RFC 4954: authentication (or TLS first) required
            return LoginRefusedError(
                f"{where} takes mail only after a login ({said}); give a user name, over starttls or ssl"
            )
        return RemoteRefusedError(
            f"{where} refused the sender {error.sender} ({said}); many servers accept only your account's address"
        )
    if isinstance(error, smtplib.SMTPDataError):
        return RemoteRefusedError(
            f"{where} refused the message ({_reply(error.smtp_code, error.smtp_error, password)})"
        )
    if isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected):
        return UnreachableError(
            f"{where} closed the connection ({_scrub(str(error), password)}); check the port"
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return RemoteRefusedError(f"{where} answered {_reply(error.smtp_code, error.smtp_error, password)}")
    if isinstance(error, ssl.SSLCertVerificationError):
        return UnreachableError(
            f"the certificate of {where} could not be verified ({error.verify_message}); "
            "check the host name, or give the server's CA certificate as the CA file"
        )
    if isinstance(error, ssl.SSLError):
        return UnreachableError(
            f"TLS with {where} failed ({one_line(error.reason or str(error))}); "
            "check the security: ssl is usually port 465, starttls port 587"
        )
    if isinstance(error, OSError):
        reason = error.strerror or str(error)
        return UnreachableError(
            f"cannot reach the SMTP server {where} ({one_line(reason)}); check the host and port"
        )
    return RemoteRefusedError(f"{where} failed: {_scrub(str(error), password)}")


def _reply(code: int, reply: bytes | str, password: str | None) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return _scrub(f"{code} {text}", password)


def _scrub(text: str, password: str | None) -> str:
    """A server could echo what it was sent: the password never reaches an error line."""
    line = one_line(text)
    return line.replace(password, "***") if password else line


def _close(smtp: smtplib.SMTP | None, *, polite: bool) -> None:
    """QUIT after a delivery (its failure changes nothing: the server has the message); after a failure, just
    drop the connection rather than wait on a server that may not answer."""
    import smtplib

    if smtp is None:
        return
    if polite:
        try:
            smtp.quit()
            return
        except (OSError, smtplib.SMTPException):
            pass
    smtp.close()
