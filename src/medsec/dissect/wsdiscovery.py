"""WS-Discovery (SOAP over UDP 3702, 2005/04 and OASIS 2009/01) and the DPWS metadata
exchanged over HTTP: the discovery and identity layer of IEEE 11073 SDC medical devices.

Two dissectors share the XML reader here:

* ``WsDiscoveryDissector`` (UDP 3702): Hello, Bye, Probe, ProbeMatches, Resolve and
  ResolveMatches give ``WsDiscoveryMessage`` (Types, Scopes, XAddrs, endpoint reference);
* ``DpwsDissector`` (TCP, any port, by signature: HTTP carrying ``application/soap+xml``):
  WS-Transfer Get / WS-MetadataExchange responses with DPWS ``ThisModel``/``ThisDevice``
  give ``DpwsDeviceMetadata`` (manufacturer, model, firmware, serial number); directed
  probes answered over HTTP give ``WsDiscoveryMessage`` too. HTTP bodies may be chunked and
  gzip- or deflate-encoded (decompressed up to ``MAX_BODY`` bytes).

XML is read with defusedxml's ElementTree ``iterparse``: any DTD, entity declaration or
external reference is refused, elements and depth are bounded, tags are matched by local
name whatever the namespace prefix (the prefixes in scope are kept to expand ``Types``).
Other SOAP bodies (BICEPS GetMdib with its patient context, event reports) are not parsed
at all.
"""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from typing import ClassVar

from medsec.model.errors import DissectError
from medsec.model.observations import Observation, PacketContext, Transport
from medsec.model.observations.discovery import DpwsDeviceMetadata, WsDiscoveryMessage

logger = logging.getLogger(__name__)

MAX_ELEMENTS = 4096
"""Elements read per XML document."""
MAX_DEPTH = 64
"""Element nesting accepted."""
MAX_MATCHES = 64
"""ProbeMatch/ResolveMatch entries stated per message."""
MAX_HTTP_MESSAGES = 64
"""HTTP messages read per TCP stream head."""
MAX_HEADER = 8192
"""Bytes of an HTTP header block."""
MAX_BODY = 1 << 20
"""Bytes an encoded HTTP body may decompress to before it is skipped."""

_DISCOVERY_NAMESPACES = (b"ws-dd/ns/discovery", b"ws/2005/04/discovery")
_ACTIONS = {
    "Hello": "Hello",
    "Bye": "Bye",
    "Probe": "Probe",
    "Resolve": "Resolve",
    "ProbeMatches": "ProbeMatch",
    "ResolveMatches": "ResolveMatch",
}
_DISCOVERY_TAGS = (b"Hello", b"Bye", b"Probe", b"Resolve")
_HTTP_METHODS = (b"POST ", b"GET ", b"PUT ", b"HTTP/1.")


class WsDiscoveryError(DissectError):
    """A WS-Discovery or DPWS SOAP document is malformed or refused (DOCTYPE, entities,
    too deep or too large)."""


class _Node:
    """One XML element: local name, namespace, text, children, in-scope prefixes."""

    __slots__ = ("children", "local", "namespace", "prefixes", "text")

    def __init__(self, local: str, namespace: str, prefixes: dict[str, str]) -> None:
        self.local = local
        self.namespace = namespace
        self.prefixes = prefixes
        self.children: list[_Node] = []
        self.text = ""

    def child(self, local: str) -> _Node | None:
        for node in self.children:
            if node.local == local:
                return node
        return None

    def path(self, *locals_: str) -> _Node | None:
        node: _Node | None = self
        for local in locals_:
            if node is None:
                return None
            node = node.child(local)
        return node

    def value(self) -> str:
        return self.text.strip()

    def find_all(self, local: str) -> Iterator[_Node]:
        """Descendants named ``local``, in document order (iterative, no recursion)."""
        stack = list(reversed(self.children))
        while stack:
            node = stack.pop()
            if node.local == local:
                yield node
            stack.extend(reversed(node.children))


def parse_xml(data: bytes) -> _Node:
    """The document element of ``data`` as a light tree keeping each element's in-scope
    namespace prefixes; ``WsDiscoveryError`` for malformed XML, any DTD or entity
    declaration (defusedxml), or a document beyond the element and depth bounds."""
    import defusedxml.ElementTree as DefusedET  # imported when a document is read
    from defusedxml import DefusedXmlException

    stack: list[_Node] = []
    root: _Node | None = None
    pending: dict[str, str] = {}
    count = 0
    try:
        for event, item in DefusedET.iterparse(
            io.BytesIO(data), events=("start-ns", "start", "end"), forbid_dtd=True
        ):
            if event == "start-ns":
                prefix, uri = item
                pending[prefix or ""] = uri
            elif event == "start":
                count += 1
                if count > MAX_ELEMENTS or len(stack) >= MAX_DEPTH:
                    raise WsDiscoveryError("XML document too large or too deep")
                namespace, _, local = item.tag.rpartition("}")
                prefixes = stack[-1].prefixes if stack else {}
                if pending:
                    prefixes = {**prefixes, **pending}
                    pending.clear()
                node = _Node(local, namespace.lstrip("{"), prefixes)
                if stack:
                    stack[-1].children.append(node)
                else:
                    root = node
                stack.append(node)
            else:  # end: the element's text is complete; drop the element's own tree
                stack.pop().text = item.text or ""
                item.clear()
    except DefusedXmlException as exc:
        raise WsDiscoveryError(f"refused XML: {type(exc).__name__}") from exc
    except (ET.ParseError, ValueError, LookupError) as exc:
        raise WsDiscoveryError(f"not well-formed XML: {exc}") from exc
    if root is None:
        raise WsDiscoveryError("XML document without an element")
    return root


def _words(node: _Node | None) -> tuple[str, ...]:
    return () if node is None else tuple(node.value().split())


def _expand(qname: str, prefixes: dict[str, str]) -> str:
    prefix, colon, local = qname.rpartition(":")
    if not colon:
        default = prefixes.get("")
        return f"{{{default}}}{qname}" if default else qname
    uri = prefixes.get(prefix)
    return f"{{{uri}}}{local}" if uri else qname


def _text(node: _Node | None) -> str | None:
    if node is None:
        return None
    value = node.value()
    return value or None


def _action_uri(envelope: _Node) -> str | None:
    return _text(envelope.path("Header", "Action"))


def discovery_messages(envelope: _Node, ctx: PacketContext) -> Iterator[WsDiscoveryMessage]:
    """The WS-Discovery messages in a SOAP envelope (none when its body is another kind)."""
    body = envelope.child("Body")
    if body is None:
        raise WsDiscoveryError("SOAP envelope without a Body")
    action_uri = _action_uri(envelope)
    for element in body.children:
        action = _ACTIONS.get(element.local)
        if action is None:
            continue
        if action in ("ProbeMatch", "ResolveMatch"):
            entries = [node for node in element.children if node.local == action][:MAX_MATCHES]
        else:
            entries = [element]
        for entry in entries:
            types = entry.child("Types")
            version = _text(entry.child("MetadataVersion"))
            yield WsDiscoveryMessage(
                ctx=ctx,
                action=action,
                action_uri=action_uri,
                endpoint_reference=_text(entry.path("EndpointReference", "Address")),
                types=_words(types),
                types_expanded=()
                if types is None
                else tuple(_expand(q, types.prefixes) for q in _words(types)),
                scopes=_words(entry.child("Scopes")),
                xaddrs=_words(entry.child("XAddrs")),
                metadata_version=int(version) if version and version.isdigit() else None,
            )


def device_metadata(envelope: _Node, ctx: PacketContext) -> DpwsDeviceMetadata | None:
    """The DPWS ThisModel/ThisDevice/Relationship metadata of a SOAP envelope, if any."""
    body = envelope.child("Body")
    if body is None:
        raise WsDiscoveryError("SOAP envelope without a Body")
    model = next(body.find_all("ThisModel"), None)
    device = next(body.find_all("ThisDevice"), None)
    if model is None and device is None:
        return None
    host = next(body.find_all("Host"), None)
    hosted: list[str] = []
    for service in body.find_all("Hosted"):
        for qname in _words(service.child("Types")):
            if qname not in hosted:
                hosted.append(qname)

    def field(parent: _Node | None, local: str) -> str | None:
        return None if parent is None else _text(parent.child(local))

    return DpwsDeviceMetadata(
        ctx=ctx,
        manufacturer=field(model, "Manufacturer"),
        manufacturer_url=field(model, "ManufacturerUrl"),
        model_name=field(model, "ModelName"),
        model_number=field(model, "ModelNumber"),
        model_url=field(model, "ModelUrl"),
        presentation_url=field(model, "PresentationUrl"),
        friendly_name=field(device, "FriendlyName"),
        firmware_version=field(device, "FirmwareVersion"),
        serial_number=field(device, "SerialNumber"),
        endpoint_reference=None
        if host is None
        else _text(host.path("EndpointReference", "Address")),
        host_types=() if host is None else _words(host.child("Types")),
        hosted_types=tuple(hosted),
    )


def _envelope(data: bytes) -> _Node:
    root = parse_xml(data)
    if root.local != "Envelope":
        raise WsDiscoveryError(f"document element {root.local!r} is no SOAP Envelope")
    return root


class WsDiscoveryDissector:
    """WS-Discovery on UDP 3702 (multicast 239.255.255.250 / ff02::c and unicast replies)."""

    name: ClassVar[str] = "ws-discovery"
    transports: ClassVar[frozenset[Transport]] = frozenset({"udp"})
    ports: ClassVar[frozenset[int]] = frozenset({3702})
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 0
    datagrams: ClassVar[int] = 16

    def signature(self, head: bytes) -> bool:
        """An XML document naming a SOAP ``Envelope`` and a WS-Discovery namespace."""
        start = head[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
        return (
            start.startswith(b"<")
            and b"Envelope" in start
            and any(ns in start for ns in _DISCOVERY_NAMESPACES)
        )

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        yield from discovery_messages(_envelope(payload), ctx)


def _dechunk(stream: bytes, pos: int) -> tuple[bytes, int] | None:
    """A chunked body starting at ``pos`` and the offset after it; None when cut short."""
    parts: list[bytes] = []
    total = 0
    while True:
        eol = stream.find(b"\r\n", pos, pos + 64)
        if eol < 0:
            return None
        size_text = stream[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        start = eol + 2
        if size == 0:
            end = stream.find(b"\r\n\r\n", eol, eol + MAX_HEADER)
            return (b"".join(parts), end + 4) if end >= 0 else None
        if start + size + 2 > len(stream) or total + size > MAX_BODY:
            return None
        parts.append(stream[start : start + size])
        total += size
        pos = start + size + 2


def _decode(body: bytes, encoding: bytes) -> bytes | None:
    """The body with its content coding undone; None when it cannot be (or is too big)."""
    if encoding in (b"", b"identity"):
        return body
    if encoding not in (b"gzip", b"x-gzip", b"deflate"):
        return None
    for wbits in (47, -15):  # gzip or zlib (auto), then raw deflate
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, MAX_BODY)
        except zlib.error:
            continue
        return None if inflater.unconsumed_tail else out
    return None


def http_bodies(stream: bytes) -> Iterator[tuple[bytes, bool]]:
    """Bodies of the HTTP messages at the start of a stream head, decoded, each with whether
    it is known to be complete (by Content-Length or chunking)."""
    pos = 0
    for _ in range(MAX_HTTP_MESSAGES):
        if pos >= len(stream):
            return
        end = stream.find(b"\r\n\r\n", pos, pos + MAX_HEADER)
        if end < 0:
            return
        lines = stream[pos:end].split(b"\r\n")
        start = lines[0]
        response = start.startswith(b"HTTP/1.")
        if not response and b" HTTP/1." not in start:
            return  # not (or no longer) HTTP
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            key, colon, value = line.partition(b":")
            if colon:
                headers.setdefault(key.strip().lower(), value.strip().lower())
        body_start = end + 4
        complete = True
        if b"chunked" in headers.get(b"transfer-encoding", b""):
            chunked = _dechunk(stream, body_start)
            if chunked is None:
                return
            body, pos = chunked
        elif b"content-length" in headers:
            length = headers[b"content-length"]
            if not length.isdigit() or body_start + int(length) > len(stream):
                return
            body = stream[body_start : body_start + int(length)]
            pos = body_start + int(length)
        elif response and start[9:10] != b"1" and start[9:12] not in (b"204", b"304"):
            body, pos, complete = stream[body_start:], len(stream), False  # until close
        else:
            body, pos = b"", body_start
        if body:
            decoded = _decode(body, headers.get(b"content-encoding", b""))
            if decoded is not None:
                yield decoded, complete


class DpwsDissector:
    """DPWS metadata (and directed WS-Discovery) in SOAP-over-HTTP streams, any TCP port."""

    name: ClassVar[str] = "dpws"
    transports: ClassVar[frozenset[Transport]] = frozenset({"tcp"})
    ports: ClassVar[frozenset[int]] = frozenset()
    ethertypes: ClassVar[frozenset[int]] = frozenset()
    llc: ClassVar[bool] = False
    stream_bytes: ClassVar[int] = 65536
    datagrams: ClassVar[int] = 0

    def signature(self, head: bytes) -> bool:
        """An HTTP request or response whose header says SOAP 1.2 (``application/soap+xml``)
        or carries a ``SOAPAction``."""
        if not head.startswith(_HTTP_METHODS):
            return False
        end = head.find(b"\r\n\r\n", 0, MAX_HEADER)
        block = (head[:end] if end >= 0 else head[:MAX_HEADER]).lower()
        return b"application/soap+xml" in block or b"\r\nsoapaction:" in block

    def dissect(self, payload: bytes, ctx: PacketContext) -> Iterator[Observation]:
        for body, complete in http_bodies(payload):
            wanted = b"ThisModel" in body or b"ThisDevice" in body
            discovery = any(tag in body for tag in _DISCOVERY_TAGS) and any(
                ns in body for ns in _DISCOVERY_NAMESPACES
            )
            if not (wanted or discovery):
                continue  # other SOAP traffic (BICEPS, eventing, WSDL): not read
            try:
                root = parse_xml(body)
            except WsDiscoveryError:
                if complete and wanted:
                    raise
                continue  # cut short by the stream head, or not metadata after all
            if root.local != "Envelope" or root.child("Body") is None:
                continue
            if wanted:
                metadata = device_metadata(root, ctx)
                if metadata is not None:
                    yield metadata
            if discovery:
                yield from discovery_messages(root, ctx)
