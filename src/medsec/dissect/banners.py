"""Cleartext services: FTP, Telnet, SMTP, POP3 and IMAP banners, logins and STARTTLS.

One direction of a session is handed over at a time; which one is told by its first bytes
(a server greets first: ``220``, ``+OK``, ``* OK``; a client sends commands). Facts:

* the server greeting (and FTP SYST reply) as ``ServiceBanner``; announced extensions
  (SMTP EHLO, FTP FEAT, IMAP CAPABILITY) as ``ServiceCapabilities``;
* a login whose password crosses in clear (FTP/POP3 USER+PASS, SMTP/POP3/IMAP AUTH PLAIN or
  LOGIN, IMAP LOGIN, a Telnet login/password exchange) as ``CleartextCredentials`` with the
  user name at most - passwords are skipped, never decoded into a fact;
* STARTTLS-style upgrades; the TLS handshake that follows in the same stream is read by the
  TLS dissector's parser.

SMTP parsing stops at DATA/BDAT: message content is never read.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from typing import ClassVar

from medsec.dissect.tls import tls_observations
from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.cleartext import (
    CleartextCredentials,
    MailUserAgent,
    ServiceBanner,
    ServiceCapabilities,
    SmtpHelo,
    StartTlsRequest,
    TelnetNegotiation,
)

_MAX_LINES = 256
_MAX_LINE = 4096
_MAX_BANNER = 512
_MAX_CAPABILITIES = 64
_REPLY = re.compile(rb"(\d{3})(?:([ -])(.*))?")
_LITERAL = re.compile(r"\{(\d{1,5})\+?\}")


# --- shared helpers ------------------------------------------------------------------------


def _lines(data: bytes, start: int = 0) -> Iterator[tuple[bytes, int]]:
    """Complete lines (without CR LF) from ``start`` and the offset after each."""
    pos = start
    for _ in range(_MAX_LINES):
        end = data.find(b"\n", pos, pos + _MAX_LINE)
        if end < 0:
            return
        yield data[pos:end].rstrip(b"\r"), end + 1
        pos = end + 1


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in text).strip()


def _banner(ctx: PacketContext, protocol: str, kind: str, parts: list[str]) -> list[Observation]:
    """A ``ServiceBanner`` of the non-empty lines (none when all are empty)."""
    text = "\n".join(p for p in parts if p)[:_MAX_BANNER]
    return [ServiceBanner(ctx=ctx, protocol=protocol, kind=kind, text=text)] if text else []


def _tls_after(data: bytes, pos: int, ctx: PacketContext) -> list[Observation]:
    """The TLS handshake facts when TLS starts at ``pos`` (after a STARTTLS), else none."""
    if data[pos : pos + 2] in (b"\x16\x03", b"\x15\x03"):
        try:
            return tls_observations(data[pos:], ctx)
        except DissectError:
            return []
    return []


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _plain_user(initial: str) -> str | None:
    """The authentication identity of a SASL PLAIN message (``authzid NUL authcid NUL pw``)."""
    decoded = _b64(initial)
    if decoded is None:
        return None
    parts = decoded.split(b"\x00")
    if len(parts) != 3:
        return None
    return parts[1].decode("utf-8", "replace") or None


def _login_user(initial: str) -> str | None:
    decoded = _b64(initial)
    return decoded.decode("utf-8", "replace") if decoded else None


def _replies(data: bytes) -> Iterator[tuple[int, list[str], int]]:
    """FTP/SMTP replies: (code, text lines, offset after the reply); stops at a non-reply."""
    code: int | None = None
    texts: list[str] = []
    for line, after in _lines(data):
        match = _REPLY.fullmatch(line)
        if code is None:
            if match is None:
                return
            code = int(match.group(1))
            texts = [_text(match.group(3) or b"")]
            if match.group(2) != b"-":  # "ddd text" or a bare "ddd": a one-line reply
                yield code, texts, after
                code = None
            continue
        # inside a multi-line reply: it ends with "<code> text"
        if match is not None and int(match.group(1)) == code and match.group(2) != b"-":
            texts.append(_text(match.group(3) or b""))
            yield code, texts, after
            code = None
        else:
            texts.append(_text(match.group(3) or b"") if match is not None else _text(line))


class _TextDissector:
    """Common class data of the line-based dissectors."""

    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 16384
    datagrams: ClassVar[int] = 0


# --- FTP (RFC 959, RFC 2228 AUTH, RFC 2389 FEAT) -------------------------------------------


class FtpDissector(_TextDissector):
    """FTP control connections: greeting, SYST, FEAT, USER/PASS, AUTH TLS."""

    name: ClassVar[str] = "ftp"
    ports: ClassVar[frozenset[int]] = frozenset({21})

    def signature(self, head: bytes) -> bool:
        """A 220 greeting that names FTP (and not SMTP) in its first 512 bytes."""
        greeting = head[:512].lower()
        return head[:4] in (b"220 ", b"220-") and b"ftp" in greeting and b"smtp" not in greeting

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if _REPLY.match(payload):
            yield from _ftp_server(payload, ctx)
        else:
            yield from _ftp_client(payload, ctx)


def _ftp_server(data: bytes, ctx: PacketContext) -> list[Observation]:
    out: list[Observation] = []
    for index, (code, texts, after) in enumerate(_replies(data)):
        if index == 0 and code in (120, 220, 421):
            out.extend(_banner(ctx, "ftp", "greeting", texts))
        elif code == 215:
            out.extend(_banner(ctx, "ftp", "system", texts))
        elif code == 211 and len(texts) > 2 and texts[0].lower().startswith("feat"):
            features = tuple(t for t in texts[1:-1] if t)[:_MAX_CAPABILITIES]
            out.append(ServiceCapabilities(ctx=ctx, protocol="ftp", capabilities=features))
        elif code == 234:  # AUTH accepted: TLS follows
            out.extend(_tls_after(data, after, ctx))
            break
    return out


def _ftp_client(data: bytes, ctx: PacketContext) -> list[Observation]:
    out: list[Observation] = []
    user: str | None = None
    for line, after in _lines(data):
        verb, _, argument = line.partition(b" ")
        verb = verb.upper()
        if not verb.isalpha() or len(verb) > 8:
            break  # not an FTP command line
        if verb == b"USER":
            user = _text(argument) or None
        elif verb == b"PASS":
            out.append(
                CleartextCredentials(ctx=ctx, protocol="ftp", mechanism="USER/PASS", user=user)
            )
        elif verb == b"AUTH":
            out.append(StartTlsRequest(ctx=ctx, protocol="ftp", command=_text(line)[:32]))
            out.extend(_tls_after(data, after, ctx))
            break
    return out


# --- SMTP (RFC 5321, RFC 4954 AUTH, RFC 3207 STARTTLS) -------------------------------------


class SmtpDissector(_TextDissector):
    """SMTP sessions up to DATA: greeting, EHLO keywords and name, AUTH, STARTTLS."""

    name: ClassVar[str] = "smtp"
    ports: ClassVar[frozenset[int]] = frozenset({25, 587, 2525})

    def signature(self, head: bytes) -> bool:
        """A 220 greeting naming SMTP in its first 512 bytes, or a client's EHLO/HELO."""
        if head[:4] in (b"220 ", b"220-"):
            return b"smtp" in head[:512].lower()
        return head[:5].upper() in (b"EHLO ", b"HELO ")

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if _REPLY.match(payload):
            yield from _smtp_server(payload, ctx)
        else:
            yield from _smtp_client(payload, ctx)


def _smtp_server(data: bytes, ctx: PacketContext) -> list[Observation]:
    out: list[Observation] = []
    for index, (code, texts, after) in enumerate(_replies(data)):
        if index == 0 and code in (220, 421, 554):
            out.extend(_banner(ctx, "smtp", "greeting", texts))
        elif (
            code == 250
            and len(texts) > 1
            and not any(isinstance(o, ServiceCapabilities) for o in out)
        ):
            keywords = tuple(t for t in texts[1:] if t)[:_MAX_CAPABILITIES]
            out.append(ServiceCapabilities(ctx=ctx, protocol="smtp", capabilities=keywords))
        elif code == 220 and index > 0:  # ready to start TLS
            out.extend(_tls_after(data, after, ctx))
            break
        elif code == 354:
            break  # message content follows: never read
    return out


def _sasl(
    protocol: str,
    mechanism: str,
    initial: str | None,
    lines: Iterator[tuple[bytes, int]],
    ctx: PacketContext,
) -> CleartextCredentials | None:
    """Credentials of an AUTH PLAIN / AUTH LOGIN exchange; ``lines`` continues the stream
    (the client lines after the command). The password line of LOGIN is skipped unread."""
    mechanism = mechanism.upper()
    if mechanism not in ("PLAIN", "LOGIN"):
        return None  # challenge-response mechanisms send no password
    if initial in (None, "", "="):
        following = next(lines, None)
        initial = _text(following[0]) if following else None
    if initial is None or initial == "*":
        return None  # cancelled or cut short
    if mechanism == "PLAIN":
        user = _plain_user(initial)
    else:
        user = _login_user(initial)
        next(lines, None)  # the password
    return CleartextCredentials(
        ctx=ctx, protocol=protocol, mechanism=f"AUTH {mechanism}", user=user
    )


def _smtp_client(data: bytes, ctx: PacketContext) -> list[Observation]:
    out: list[Observation] = []
    lines = _lines(data)
    for line, after in lines:
        verb, _, argument = line.partition(b" ")
        verb = verb.upper()
        if verb in (b"EHLO", b"HELO"):
            domain = _text(argument)[:255]
            if domain:
                out.append(SmtpHelo(ctx=ctx, verb=verb.decode(), domain=domain))
        elif verb == b"AUTH":
            mechanism, _, initial = _text(argument).partition(" ")
            found = _sasl("smtp", mechanism, initial or None, lines, ctx)
            if found is not None:
                out.append(found)
        elif verb == b"STARTTLS":
            out.append(StartTlsRequest(ctx=ctx, protocol="smtp", command="STARTTLS"))
            out.extend(_tls_after(data, after, ctx))
            break
        elif verb == b"DATA":
            out.extend(_mail_agents(lines, ctx))
            break
        elif verb == b"BDAT" or not verb.isalpha():
            break  # binary message chunks, or not SMTP commands
    return out


_AGENT_HEADERS = {b"x-mailer": "X-Mailer", b"user-agent": "User-Agent"}
_MAX_AGENT = 200


def _mail_agents(lines: Iterator[tuple[bytes, int]], ctx: PacketContext) -> list[Observation]:
    """``X-Mailer`` / ``User-Agent`` of the message header that follows DATA (up to the
    blank line that ends the header, RFC 5322 2.1); folded lines continue a field (2.2.3)."""
    fields: list[tuple[bytes, bytearray]] = []
    for line, _after in lines:
        if not line:
            break  # end of the header: the body is never read
        if line[:1] in (b" ", b"\t"):
            if fields:
                fields[-1][1].extend(b" " + line.strip())
            continue
        name, colon, body = line.partition(b":")
        if not colon:
            break  # not a header field: not a message header
        fields.append((name.strip().lower(), bytearray(body.strip())))
    out: list[Observation] = []
    for field_name, field_body in fields:
        header = _AGENT_HEADERS.get(field_name)
        value = _text(bytes(field_body[: _MAX_AGENT * 2]))[:_MAX_AGENT] if header else ""
        if header and value:
            out.append(MailUserAgent(ctx=ctx, header=header, value=value))
    return out


# --- POP3 (RFC 1939, RFC 2595 STLS, RFC 5034 AUTH) -----------------------------------------


class Pop3Dissector(_TextDissector):
    """POP3 sessions: greeting, USER/PASS, AUTH, STLS."""

    name: ClassVar[str] = "pop3"
    ports: ClassVar[frozenset[int]] = frozenset({110})

    def signature(self, head: bytes) -> bool:
        """The ``+OK`` greeting."""
        return head.startswith(b"+OK")

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if payload.startswith((b"+OK", b"-ERR")):
            first = next(_lines(payload), None)
            if first is not None and payload.startswith(b"+OK"):
                yield from _banner(ctx, "pop3", "greeting", [_text(first[0][3:])])
            return
        yield from _pop3_client(payload, ctx)


def _pop3_client(data: bytes, ctx: PacketContext) -> list[Observation]:
    out: list[Observation] = []
    user: str | None = None
    lines = _lines(data)
    for line, after in lines:
        verb, _, argument = line.partition(b" ")
        verb = verb.upper()
        if not verb.isalpha() or len(verb) > 8:
            break
        if verb == b"USER":
            user = _text(argument) or None
        elif verb == b"PASS":
            out.append(
                CleartextCredentials(ctx=ctx, protocol="pop3", mechanism="USER/PASS", user=user)
            )
        elif verb == b"AUTH":
            mechanism, _, initial = _text(argument).partition(" ")
            found = _sasl("pop3", mechanism, initial or None, lines, ctx)
            if found is not None:
                out.append(found)
        elif verb == b"STLS":
            out.append(StartTlsRequest(ctx=ctx, protocol="pop3", command="STLS"))
            out.extend(_tls_after(data, after, ctx))
            break
    return out


# --- IMAP (RFC 9051) -----------------------------------------------------------------------


class ImapDissector(_TextDissector):
    """IMAP sessions: greeting and capabilities, LOGIN, AUTHENTICATE, STARTTLS."""

    name: ClassVar[str] = "imap"
    ports: ClassVar[frozenset[int]] = frozenset({143})

    def signature(self, head: bytes) -> bool:
        """The untagged ``* OK`` / ``* PREAUTH`` greeting."""
        return head.startswith((b"* OK", b"* PREAUTH"))

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        if payload.startswith(b"* "):
            yield from _imap_server(payload, ctx)
        else:
            yield from _imap_client(payload, ctx)


_IMAP_CAPABILITY = re.compile(r"\[CAPABILITY ([^\]]*)\]", re.IGNORECASE)


def _imap_server(data: bytes, ctx: PacketContext) -> list[Observation]:
    out: list[Observation] = []
    for index, (line, _after) in enumerate(_lines(data)):
        text = _text(line)
        if not text.startswith("* "):
            continue
        status, _, rest = text[2:].partition(" ")
        capabilities: str | None = None
        if index == 0 and status.upper() in ("OK", "PREAUTH", "BYE"):
            match = _IMAP_CAPABILITY.search(rest)
            if match:
                capabilities = match.group(1)
                rest = (rest[: match.start()] + rest[match.end() :]).strip()
            out.extend(_banner(ctx, "imap", "greeting", [rest]))
        elif status.upper() == "CAPABILITY":
            capabilities = rest
        if capabilities is not None and not any(isinstance(o, ServiceCapabilities) for o in out):
            atoms = tuple(capabilities.split())[:_MAX_CAPABILITIES]
            out.append(ServiceCapabilities(ctx=ctx, protocol="imap", capabilities=atoms))
    return out


def _imap_astring(text: str, lines: Iterator[tuple[bytes, int]]) -> str | None:
    """The first argument of a command: atom, "quoted" string, or {n} literal."""
    text = text.strip()
    if text.startswith('"'):
        end = text.find('"', 1)
        return text[1:end] if end > 0 else None
    literal = _LITERAL.match(text)
    if literal:
        following = next(lines, None)  # the literal starts on the next line
        if following is None:
            return None
        size = int(literal.group(1))
        if _LITERAL.search(following[0][size:].decode("latin-1")):
            next(lines, None)  # the password is a literal too: skip its line unread
        return _text(following[0][:size])
    return text.split(" ", 1)[0] or None


def _imap_client(data: bytes, ctx: PacketContext) -> list[Observation]:
    out: list[Observation] = []
    lines = _lines(data)
    for line, after in lines:
        parts = _text(line).split(" ", 2)
        if len(parts) < 2:
            continue
        command = parts[1].upper()
        argument = parts[2] if len(parts) > 2 else ""
        if command == "LOGIN":
            user = _imap_astring(argument, lines)
            out.append(CleartextCredentials(ctx=ctx, protocol="imap", mechanism="LOGIN", user=user))
        elif command == "AUTHENTICATE":
            mechanism, _, initial = argument.partition(" ")
            found = _sasl("imap", mechanism, initial or None, lines, ctx)
            if found is not None:
                out.append(found)
        elif command == "STARTTLS":
            out.append(StartTlsRequest(ctx=ctx, protocol="imap", command="STARTTLS"))
            out.extend(_tls_after(data, after, ctx))
            break
    return out


# --- Telnet (RFC 854, 855, 1091) -----------------------------------------------------------

_IAC, _SB, _SE = 255, 250, 240
_WILL, _WONT, _DO, _DONT = 251, 252, 253, 254
_TERMINAL_TYPE = 24
_LOGIN_PROMPT = re.compile(r"(?:^|[\s:])(?:login|username|user name|user)\s*:", re.IGNORECASE)
_PASSWORD_PROMPT = re.compile(r"(?:password|passcode)\s*:", re.IGNORECASE)


class TelnetDissector(_TextDissector):
    """Telnet sessions: option negotiation, pre-login banner, login/password prompts."""

    name: ClassVar[str] = "telnet"
    ports: ClassVar[frozenset[int]] = frozenset({23})
    stream_bytes: ClassVar[int] = 4096

    def signature(self, head: bytes) -> bool:
        """An IAC WILL/WONT/DO/DONT command or subnegotiation first."""
        return len(head) >= 3 and head[0] == _IAC and (_WILL <= head[1] <= _DONT or head[1] == _SB)

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        yield from _telnet(payload, ctx)


def _telnet_strip(data: bytes) -> tuple[bytes, list[int], list[int], str | None, int]:
    """Text without IAC sequences, DO and WILL options, terminal type, commands seen."""
    text = bytearray()
    do: list[int] = []
    will: list[int] = []
    terminal: str | None = None
    commands = 0
    i, n = 0, len(data)
    while i < n:
        byte = data[i]
        if byte != _IAC:
            text.append(byte)
            i += 1
            continue
        if i + 1 >= n:
            break
        command = data[i + 1]
        if command == _IAC:  # escaped 0xFF data byte
            text.append(_IAC)
            i += 2
            continue
        commands += 1
        if _WILL <= command <= _DONT:
            if i + 2 >= n:
                break
            option = data[i + 2]
            if command == _DO and option not in do:
                do.append(option)
            elif command == _WILL and option not in will:
                will.append(option)
            i += 3
        elif command == _SB:
            end = data.find(bytes((_IAC, _SE)), i + 2)
            if end < 0:
                break
            body = data[i + 2 : end]
            if len(body) > 2 and body[0] == _TERMINAL_TYPE and body[1] == 0:  # IS
                terminal = body[2:66].decode("ascii", "replace")
            i = end + 2
        else:
            i += 2
    return bytes(text), do, will, terminal, commands


def _telnet(data: bytes, ctx: PacketContext) -> list[Observation]:
    raw, do, will, terminal, commands = _telnet_strip(data)
    text = raw.decode("latin-1")
    login = _LOGIN_PROMPT.search(text)
    password = _PASSWORD_PROMPT.search(text)
    if not commands and not (login or password):
        return []  # neither negotiation nor prompts: nothing telnet-specific to state
    out: list[Observation] = [
        TelnetNegotiation(
            ctx=ctx,
            do_options=tuple(do),
            will_options=tuple(will),
            terminal_type=terminal,
            login_prompt=login is not None,
            password_prompt=password is not None,
        )
    ]
    if login is not None:
        greeting = _text(text[: login.start()].encode("latin-1"))
        if greeting:
            out.append(
                ServiceBanner(
                    ctx=ctx, protocol="telnet", kind="greeting", text=greeting[:_MAX_BANNER]
                )
            )
    if login is not None and password is not None and password.start() > login.end():
        # a server echoes the user name it reads (never the password)
        echoed = text[login.end() : password.start()].split("\n", 1)
        user = _text(echoed[0].encode("latin-1")) if len(echoed) == 2 else ""
        out.append(
            CleartextCredentials(
                ctx=ctx,
                protocol="telnet",
                mechanism="telnet login",
                user=user or None,
            )
        )
    return out
