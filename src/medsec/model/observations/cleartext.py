"""Facts of cleartext services (FTP, Telnet, SMTP, POP3, IMAP): banners, logins, STARTTLS.

A login that crosses in clear is recorded with its user name at most - never the password.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class ServiceBanner(Observation):
    """Text a server volunteers about itself (a greeting, or its answer to FTP SYST)."""

    PROTOCOL: ClassVar[str] = "banner"
    protocol: str
    """``ftp``, ``telnet``, ``smtp``, ``pop3`` or ``imap``."""
    kind: str
    """``greeting`` (the text a server sends first) or ``system`` (FTP SYST reply)."""
    text: str
    """The text without reply codes; lines joined by ``\\n``, at most 512 characters."""


@observation
class ServiceCapabilities(Observation):
    """Extensions a server announces: SMTP EHLO keywords, FTP FEAT, IMAP CAPABILITY."""

    PROTOCOL: ClassVar[str] = "cleartext"
    protocol: str
    """``ftp``, ``smtp`` or ``imap``."""
    capabilities: tuple[str, ...]
    """Announced lines/atoms in order (``AUTH PLAIN LOGIN``, ``STARTTLS``, ``EPSV``)."""


@observation
class CleartextCredentials(Observation):
    """A password (or a reversible encoding of it) crossed the network unencrypted."""

    PROTOCOL: ClassVar[str] = "cleartext"
    protocol: str
    """``ftp``, ``telnet``, ``smtp``, ``pop3`` or ``imap``."""
    mechanism: str
    """How: ``USER/PASS``, ``AUTH PLAIN``, ``AUTH LOGIN``, ``LOGIN``, ``telnet login``."""
    user: str | None
    """The user name when it could be read (never the password)."""


@observation
class StartTlsRequest(Observation):
    """A client asked to upgrade the session to TLS (FTP AUTH TLS, STARTTLS, STLS)."""

    PROTOCOL: ClassVar[str] = "cleartext"
    protocol: str
    """``ftp``, ``smtp``, ``pop3`` or ``imap``."""
    command: str
    """The command as sent (``AUTH TLS``, ``STARTTLS``, ``STLS``)."""


@observation
class SmtpHelo(Observation):
    """The name an SMTP client gives in EHLO/HELO (RFC 5321 §4.1.1.1), often its host name."""

    PROTOCOL: ClassVar[str] = "smtp"
    verb: str
    """``EHLO`` or ``HELO``."""
    domain: str
    """The domain or address literal given."""


@observation
class MailUserAgent(Observation):
    """The program that composed a message an SMTP client submitted: its ``X-Mailer`` or
    ``User-Agent`` header (RFC 5322 optional fields; RFC 2076 3.6). No other header, and
    nothing of the body, is read: addresses and subjects are people's data."""

    PROTOCOL: ClassVar[str] = "smtp"
    header: str
    """``X-Mailer`` or ``User-Agent``, as the message spells the field name."""
    value: str
    """The field body, unfolded and trimmed."""


@observation
class TelnetNegotiation(Observation):
    """Telnet option negotiation (RFC 854/855) and login prompts seen in one direction."""

    PROTOCOL: ClassVar[str] = "telnet"
    do_options: tuple[int, ...]
    """Options the sender asked the peer to enable (IAC DO), in order, without repeats."""
    will_options: tuple[int, ...]
    """Options the sender offered to enable (IAC WILL), in order, without repeats."""
    terminal_type: str | None
    """Terminal type sent in a TERMINAL-TYPE IS subnegotiation (RFC 1091)."""
    login_prompt: bool
    """A login / user name prompt appeared in the text."""
    password_prompt: bool
    """A password prompt appeared in the text."""
