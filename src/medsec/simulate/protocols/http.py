"""HTTP/1.1 requests and responses."""

from __future__ import annotations

import base64

REASONS = {200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified", 401: "Unauthorized"}


def request(
    method: str,
    path: str,
    host: str,
    *,
    user_agent: str | None,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    content_type: str | None = None,
) -> bytes:
    """A request with Host, User-Agent, the given headers and a Content-Length if a body."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if user_agent is not None:
        lines.append(f"User-Agent: {user_agent}")
    lines.extend(f"{name}: {value}" for name, value in headers or [])
    if body or method in {"POST", "PUT"}:
        if content_type is not None:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def response(
    status: int,
    *,
    server: str | None,
    date: str,
    body: bytes = b"",
    content_type: str = "text/html",
    headers: list[tuple[str, str]] | None = None,
) -> bytes:
    """A response with Date, Server, Content-Type and Content-Length."""
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}", f"Date: {date}"]
    if server is not None:
        lines.append(f"Server: {server}")
    lines.extend(f"{name}: {value}" for name, value in headers or [])
    if body or status not in {204, 304}:
        lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def basic_auth(user: str, password: str) -> tuple[str, str]:
    """The ``Authorization`` header for HTTP Basic authentication."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return "Authorization", f"Basic {token}"
