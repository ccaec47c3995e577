"""The inventory stage: the SQL store of captures, flows, the communication graph (with the
applications recognised on each edge), hosts, their address bindings, and the dissectors'
observations.

::

    store = Store.open(database_url(settings.database))
    with store:
        store.ingest(summary, settings.site)
        store.hosts(HostQuery(internal=True, gateway_mac_threshold=settings.gateway_mac_threshold))
        store.edges(EdgeQuery(app="dicom"))
        store.observations(ObservationQuery(host="10.1.2.3", protocol="dhcp"))

SQLite (default, one file) and PostgreSQL (``postgresql+psycopg://``) run the same code; the
schema is created and upgraded by the Alembic migrations shipped in ``migrations/``.
"""

from medsec.inventory.store import Store
from medsec.inventory.url import database_url
from medsec.inventory.views import (
    CaptureStatus,
    CaptureView,
    DeviceQuery,
    DeviceView,
    EdgeQuery,
    EdgeView,
    FlowQuery,
    FlowView,
    HostBinding,
    HostQuery,
    HostView,
    IngestResult,
    InvalidQuery,
    ObservationQuery,
    ObservationView,
    Totals,
)

__all__ = [
    "CaptureStatus",
    "CaptureView",
    "DeviceQuery",
    "DeviceView",
    "EdgeQuery",
    "EdgeView",
    "FlowQuery",
    "FlowView",
    "HostBinding",
    "HostQuery",
    "HostView",
    "IngestResult",
    "InvalidQuery",
    "ObservationQuery",
    "ObservationView",
    "Store",
    "Totals",
    "database_url",
]
