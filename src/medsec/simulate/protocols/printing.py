"""Print jobs: raw JetDirect (port 9100, PJL + PCL) and IPP Print-Job (RFC 8011) over HTTP."""

from __future__ import annotations

import random
import struct

from medsec.simulate.protocols import http


def jetdirect_job(job_name: str, user: str, pages: int, rng: random.Random) -> bytes:
    """A PJL-wrapped PCL job with opaque page data."""
    header = (
        f'\x1b%-12345X@PJL JOB NAME="{job_name}"\r\n@PJL SET USERNAME="{user}"\r\n'
        "@PJL ENTER LANGUAGE=PCL\r\n"
    )
    body = b"\x1bE" + b"".join(b"\x1b*b" + rng.randbytes(2400) for _ in range(pages))
    return header.encode() + body + b"\x1bE\x1b%-12345X@PJL EOJ\r\n\x1b%-12345X"


def _attribute(tag: int, name: str, value: bytes) -> bytes:
    return (
        struct.pack("!BH", tag, len(name)) + name.encode() + struct.pack("!H", len(value)) + value
    )


def ipp_print_job(
    host: str, printer_uri: str, user: str, job_name: str, document: bytes, request_id: int
) -> bytes:
    """An HTTP POST carrying an IPP/2.0 Print-Job request and the document."""
    body = struct.pack("!BBHI", 2, 0, 0x0002, request_id) + b"\x01"
    body += _attribute(0x47, "attributes-charset", b"utf-8")
    body += _attribute(0x48, "attributes-natural-language", b"en-us")
    body += _attribute(0x45, "printer-uri", printer_uri.encode())
    body += _attribute(0x42, "requesting-user-name", user.encode())
    body += _attribute(0x42, "job-name", job_name.encode())
    body += _attribute(0x49, "document-format", b"application/pdf") + b"\x03" + document
    return http.request(
        "POST",
        "/ipp/print",
        host,
        user_agent="CUPS/2.4.2 (Windows 10) IPP/2.0",
        body=body,
        content_type="application/ipp",
    )


def ipp_response(request_id: int, job_id: int, date: str, server: str) -> bytes:
    body = struct.pack("!BBHI", 2, 0, 0x0000, request_id) + b"\x01"
    body += _attribute(0x47, "attributes-charset", b"utf-8")
    body += _attribute(0x48, "attributes-natural-language", b"en-us")
    body += b"\x02" + _attribute(0x21, "job-id", struct.pack("!I", job_id))
    body += _attribute(0x23, "job-state", struct.pack("!I", 3)) + b"\x03"
    return http.response(200, server=server, date=date, body=body, content_type="application/ipp")


def pdf_document(pages: int, rng: random.Random) -> bytes:
    """Bytes that start like a PDF; the rest is opaque."""
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(1800 * pages) + b"\n%%EOF\n"
