"""The hospital network simulator: deterministic captures with ground truth.

``generate(path)`` writes a classic pcap of a simulated hospital (departments on VLANs,
medical devices, workstations, data-center servers, internet services) and a
``.truth.json`` beside it listing every host and every conversation edge with exact
packet and byte counts. It only writes files; it never sends a packet.
"""

from medsec.simulate.generator import SimulationResult, generate

__all__ = ["SimulationResult", "generate"]
