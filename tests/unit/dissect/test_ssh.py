"""SSH dissector: identification strings, KEXINIT and HASSH (oracle: nDPI's ssh.pcap output)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import dpkt
import pytest

from medsec.dissect.ssh import SshDissector, SshError
from medsec.model.observations.ssh import SshBanner, SshKexInit

from tests_support.dissect_harness import ctx, payloads

D = SshDissector()


def name_list(*names: str) -> bytes:
    raw = ",".join(names).encode()
    return len(raw).to_bytes(4, "big") + raw


def kexinit_packet() -> bytes:
    """An SSH_MSG_KEXINIT (RFC 4253 §7.1) in a binary packet (§6), 4 bytes of padding."""
    payload = (
        bytes([20])  # SSH_MSG_KEXINIT
        + bytes(16)  # cookie
        + name_list("curve25519-sha256", "diffie-hellman-group14-sha256")  # kex_algorithms
        + name_list("ssh-ed25519", "rsa-sha2-512")  # server_host_key_algorithms
        + name_list("aes128-ctr", "aes256-gcm@openssh.com")  # encryption c->s
        + name_list("aes256-ctr")  # encryption s->c
        + name_list("hmac-sha2-256")  # mac c->s
        + name_list("hmac-sha1")  # mac s->c
        + name_list("none", "zlib@openssh.com")  # compression c->s
        + name_list("none")  # compression s->c
        + name_list()  # languages c->s
        + name_list()  # languages s->c
        + b"\x00"  # first_kex_packet_follows
        + bytes(4)  # reserved
    )
    padding = 4
    return (len(payload) + padding + 1).to_bytes(4, "big") + bytes([padding]) + payload + bytes(4)


CLIENT = b"SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5\r\n" + kexinit_packet()


def test_banner_fields() -> None:
    banner, kexinit = D.dissect(CLIENT, ctx(dst_port=22))
    assert banner == SshBanner(
        ctx=ctx(dst_port=22),
        banner="SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5",
        protocol_version="2.0",
        software_version="OpenSSH_8.2p1",
        comments="Ubuntu-4ubuntu0.5",
        product="OpenSSH",
        product_version="8.2p1",
    )
    assert isinstance(kexinit, SshKexInit)
    assert D.signature(CLIENT)


@pytest.mark.parametrize(
    ("line", "product", "version", "protocol"),
    [
        (b"SSH-2.0-dropbear_2019.78", "dropbear", "2019.78", "2.0"),
        (b"SSH-1.99-Cisco-1.25", "Cisco", "1.25", "1.99"),
        (b"SSH-2.0-APACHE-SSHD-2.5.0", "APACHE-SSHD", "2.5.0", "2.0"),
        (b"SSH-2.0-OpenSSH_for_Windows_8.1", "OpenSSH_for_Windows", "8.1", "2.0"),
        (b"SSH-2.0-ROSSSH", "ROSSSH", None, "2.0"),
        (b"SSH-1.5-OpenSSH_6.6", "OpenSSH", "6.6", "1.5"),
    ],
)
def test_products(line: bytes, product: str, version: str | None, protocol: str) -> None:
    (banner,) = D.dissect(line + b"\r\n", ctx())
    assert isinstance(banner, SshBanner)
    assert (banner.product, banner.product_version, banner.protocol_version) == (
        product,
        version,
        protocol,
    )


def test_kexinit_lists_and_hassh_by_role() -> None:
    # direction unknown (from_client None): the side on port 22 is taken as the server
    _, client = D.dissect(CLIENT, ctx(src_port=50000, dst_port=22, from_client=None))
    assert isinstance(client, SshKexInit) and client.role == "client"
    assert client.kex_algorithms == ("curve25519-sha256", "diffie-hellman-group14-sha256")
    assert client.compression_client_to_server == ("none", "zlib@openssh.com")
    # HASSH = md5("kex;enc c->s;mac c->s;compression c->s")
    algorithms = (
        "curve25519-sha256,diffie-hellman-group14-sha256;aes128-ctr,aes256-gcm@openssh.com;"
        "hmac-sha2-256;none,zlib@openssh.com"
    )
    assert client.hassh_algorithms == algorithms
    assert client.hassh == hashlib.md5(algorithms.encode()).hexdigest()
    # HASSH-S takes the server-to-client lists
    server_bytes = b"SSH-2.0-OpenSSH_8.2p1\r\n" + kexinit_packet()
    _, server = D.dissect(server_bytes, ctx(src_port=22, dst_port=50000, from_client=None))
    assert isinstance(server, SshKexInit) and server.role == "server"
    assert server.hassh_algorithms == (
        "curve25519-sha256,diffie-hellman-group14-sha256;aes256-ctr;hmac-sha1;none"
    )
    _, told = D.dissect(server_bytes, ctx(src_port=22, dst_port=50000, from_client=True))
    assert isinstance(told, SshKexInit) and told.role == "client"  # the direction wins


def test_lines_before_the_banner_and_cut_streams() -> None:
    data = b"Welcome to the device\r\nAuthorized use only\r\nSSH-2.0-libssh_0.9.4\r\n"
    (banner,) = D.dissect(data, ctx())
    assert isinstance(banner, SshBanner) and banner.product == "libssh"
    assert list(D.dissect(CLIENT[:-10], ctx()))[1:] == []  # KEXINIT cut short: banner only
    assert list(D.dissect(b"SSH-2.0-Open", ctx())) == []  # no end of line yet


def test_not_ssh_and_broken_ssh() -> None:
    assert list(D.dissect(b"\x16\x03\x01\x00\x05hello", ctx())) == []
    assert not D.signature(b"SSH-x")
    with pytest.raises(SshError):
        list(D.dissect(b"SSH-2.0\r\n", ctx()))  # no software version
    with pytest.raises(SshError):
        list(D.dissect(b"SSH-2.0-\x01\x02\r\n", ctx()))
    broken = bytearray(CLIENT)
    broken[len(b"SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5\r\n") + 6 + 16 + 3] = 0xFF  # list length
    banner_only = list(D.dissect(bytes(broken), ctx()))
    assert [type(o) for o in banner_only] == [SshBanner]


# --- real traffic --------------------------------------------------------------------------


def _observations(path: Path) -> list[object]:
    out: list[object] = []
    for item in payloads(path, stream_bytes=D.stream_bytes):
        if item.ctx.transport == "tcp" and D.signature(item.data):
            out.extend(D.dissect(item.data, item.ctx))
    return out


def _ethernet_copy(source: Path, target: Path) -> Path:
    """Rewrite a pcapng capture as classic Ethernet pcap for the harness."""
    with open(source, "rb") as f, open(target, "wb") as out:
        writer = dpkt.pcap.Writer(out)
        for ts, buf in dpkt.pcapng.Reader(f):
            writer.writepkt(buf, ts)
    return target


def test_hassh_matches_ndpi(shared_data: Path, tmp_path: Path) -> None:
    copy = _ethernet_copy(shared_data / "pcap/ndpi/ssh.pcap", tmp_path / "ssh.pcap")
    found = _observations(copy)
    hashes = {(o.role, o.hassh) for o in found if isinstance(o, SshKexInit)}
    # expected_ndpiReader/ssh.pcap.out: HASSH-C / HASSH-S of both flows
    assert hashes == {
        ("client", "21b457a327ce7a2d4fce5ef2c42400bd"),
        ("server", "b1c6c0d56317555b85c7005a3de29325"),
        ("client", "c11b200866cf918393e62ea25d851d90"),
        ("server", "ca6dd86b2d9a44e4a3f1a55c53e6b0fa"),
    }
    banners = {o.banner for o in found if isinstance(o, SshBanner)}
    assert banners == {
        "SSH-2.0-OpenSSH_5.3",
        "SSH-2.0-OpenSSH_5.6",
        "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.11",
        "SSH-2.0-APACHE-SSHD-2.5.0",
    }


def test_ssh_on_port_80(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/zeek/ssh_ssh-on-port-80.pcap")
    server = next(o for o in found if isinstance(o, SshBanner) and o.ctx.src_port == 80)
    assert (server.software_version, server.comments) == ("OpenSSH_5.8p1", "Debian-1ubuntu3")
    roles = {(o.ctx.src_port, o.role) for o in found if isinstance(o, SshKexInit)}
    assert roles == {(80, "server"), (49656, "client")}


def test_ssh1_and_cisco(shared_data: Path) -> None:
    found = _observations(shared_data / "pcap/zeek/ssh_ssh1-ssh2-fingerprints.pcap")
    ssh1 = [o for o in found if isinstance(o, SshBanner) and o.protocol_version == "1.5"]
    assert len(ssh1) == 2  # an SSH-1 session: banners, no SSH-2 KEXINIT
    assert sum(isinstance(o, SshKexInit) for o in found) == 2  # the SSH-2 session's two
    cisco = _observations(shared_data / "pcap/zeek/ssh_ssh_version_199.pcap")
    assert {(o.product, o.protocol_version) for o in cisco if isinstance(o, SshBanner)} == {
        ("Cisco", "2.0"),
        ("Cisco", "1.99"),
    }
    kex = next(o for o in cisco if isinstance(o, SshKexInit))
    assert kex.kex_algorithms == ("diffie-hellman-group1-sha1",)
