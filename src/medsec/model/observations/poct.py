"""Facts stated by POCT1-A (CLSI POCT1-A2) device messaging: XML over TCP from point-of-care
analysers (glucose meters, blood gas, coagulation) to their data manager.

The hello (``HEL.R01``) names the device (vendor, model, serial, software); other messages are
recorded by type only. Observation (``OBS.R01``/``OBS.R02``) and patient-list messages carry
patient data; its values are never read, ``carries_phi`` states that it was there.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class PoctHello(Observation):
    """A ``HEL.R01`` message: the device introduces itself and its capabilities."""

    PROTOCOL: ClassVar[str] = "poct1a"
    version_id: str | None
    """``HDR.version_id``: the message standard (``POCT1``)."""
    device_id: str | None
    """``DEV.device_id``: the site's identifier for the device."""
    vendor_id: str | None
    """``DEV.vendor_id``: vendor code (``NOVABIO``)."""
    model_id: str | None
    """``DEV.model_id``: model (``StatStrip``)."""
    serial_id: str | None
    """``DEV.serial_id``: serial number."""
    manufacturer_name: str | None
    """``DEV.manufacturer_name`` (``Nova Biomedical``)."""
    hw_version: str | None
    """``DEV.hw_version``: hardware version."""
    sw_version: str | None
    """``DEV.sw_version``: software (firmware) version."""
    device_name: str | None
    """``DEV.device_name``: the device's own name, when sent."""
    application_timeout: int | None
    """``DCP.application_timeout``: seconds the device waits for an answer."""
    connection_profile_cd: str | None
    """``DSC.connection_profile_cd``: the device's connection profile code (``SA``)."""
    topics_supported_cd: tuple[str, ...]
    """``DSC.topics_supported_cd`` values: message topics the device supports."""
    directives_supported_cd: tuple[str, ...]
    """``DSC.directives_supported_cd`` values: directives the device accepts."""
    max_message_sz: int | None
    """``DSC.max_message_sz``: largest message the device accepts, in bytes."""


@observation
class PoctMessage(Observation):
    """Any other POCT1-A message, by type."""

    PROTOCOL: ClassVar[str] = "poct1a"
    message_type: str
    """Root element: ``DST.R01`` status, ``OBS.R01`` patient results, ``OBS.R02`` QC
    results, ``OPL.R01`` operator list, ``ACK.R01``, ``EOT.R01``, ``DTV.R01``..."""
    carries_phi: bool
    """A patient element (``PT``, ``PT.patient_id``...) is present."""
