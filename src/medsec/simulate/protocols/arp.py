"""ARP requests, replies and gratuitous announcements on a tagged segment."""

from __future__ import annotations

from medsec.simulate import frames as f
from medsec.simulate.ledger import Frame

REQUEST = 1
REPLY = 2


def request(ts: int, vlan: int, sender_mac: str, sender_ip: str, target_ip: str) -> Frame:
    """Broadcast who-has ``target_ip`` tell ``sender_ip``."""
    mac = f.mac_bytes(sender_mac)
    body = f.arp(REQUEST, mac, f.ip4(sender_ip), f.ZERO_MAC, f.ip4(target_ip))
    return Frame(ts, f.ethernet(f.BROADCAST_MAC, mac, vlan, f.ETHERTYPE_ARP, body), None, None)


def reply(
    ts: int, vlan: int, sender_mac: str, sender_ip: str, target_mac: str, target_ip: str
) -> Frame:
    """Unicast ``sender_ip`` is-at ``sender_mac``."""
    mac, peer = f.mac_bytes(sender_mac), f.mac_bytes(target_mac)
    body = f.arp(REPLY, mac, f.ip4(sender_ip), peer, f.ip4(target_ip))
    return Frame(ts, f.ethernet(peer, mac, vlan, f.ETHERTYPE_ARP, body), None, None)


def announcement(ts: int, vlan: int, mac_text: str, ip: str) -> Frame:
    """Gratuitous ARP: a broadcast request for the sender's own address."""
    mac = f.mac_bytes(mac_text)
    body = f.arp(REQUEST, mac, f.ip4(ip), f.ZERO_MAC, f.ip4(ip))
    return Frame(ts, f.ethernet(f.BROADCAST_MAC, mac, vlan, f.ETHERTYPE_ARP, body), None, None)
