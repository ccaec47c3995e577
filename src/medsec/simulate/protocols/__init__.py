"""Payload builders, one module per protocol. They return bytes and know nothing of frames,
except ``arp`` and ``ndp``, whose messages sit directly on Ethernet/IPv6."""
