"""Facts of DRDA (Distributed Relational Database Architecture, The Open Group DRDA Vol. 3
"Distributed Data Management Architecture"): IBM Db2 on every platform, Apache Derby's
network server, and the IBM drivers that talk to them.

What each end says about itself when the connection starts - EXCSAT/EXCSATRD server
attributes (platform class, product release level, server and external names, manager
levels), the product identifiers of ACCRDB/ACCRDBRM - and which security mechanism the
connection uses. Never a query, a row, a database name or a secret: when a password crosses
in clear (SECCHK with security mechanism 3 USRIDPWD or 5 USRIDNWPWD) the dissector states a
``CleartextCredentials`` with the user id at most, as the other database dissectors do.
"""

from __future__ import annotations

from typing import ClassVar

from medsec.model.observations import Observation, observation


@observation
class DrdaServerAttributes(Observation):
    """An EXCSAT command (the client) or its EXCSATRD reply (the server), DDM code points
    0x1041 and 0x1443: each end's self-description."""

    PROTOCOL: ClassVar[str] = "drda"
    reply: bool
    """EXCSATRD, sent by the server, rather than EXCSAT."""
    server_class_name: str | None = None
    """SRVCLSNM 0x1147: the platform and product class (``QDB2/LINUXX8664``, ``QDB2/NT64``,
    ``QDB2/AIX64``, ``QAS`` Db2 for i, ``QDB2`` Db2 for z/OS, ``QDB2/JVM`` the JDBC driver,
    ``Apache Derby``)."""
    server_release_level: str | None = None
    """SRVRLSLV 0x115A: the product release level, an IBM product identifier
    (``SQL11055``, ``JCC04330``; Derby: ``CSS10140/10.14.2.0 - (1828579)``)."""
    server_name: str | None = None
    """SRVNAM 0x116D: the server's name (a Db2 instance name, a host name)."""
    external_name: str | None = None
    """EXTNAM 0x115E: the name of the job, task or process (``db2jcc_application``,
    ``db2sysc``...)."""
    product_code: str | None = None
    """``ppp`` of SRVRLSLV when it has the product identifier form ``pppvvrrm`` (IBM:
    ``SQL`` Db2 for Linux, UNIX and Windows, ``DSN`` Db2 for z/OS, ``QSQ`` Db2 for i,
    ``ARI`` Db2 for VM/VSE, ``JCC`` the JDBC/SQLJ driver; ``CSS`` Derby's server)."""
    product_version: str | None = None
    """``vv.rr.m`` of that form (``SQL08024`` -> ``8.2.4``; a ninth character, Db2 for LUW's
    fix pack, is appended: ``SQL110122`` -> ``11.1.2.2``)."""
    manager_levels: tuple[str, ...] = ()
    """MGRLVLLS 0x1404: ``MANAGER=level`` pairs (``AGENT=7``, ``SQLAM=7``, ``SECMGR=7``,
    ``CMNTCPIP=5``; the code point in hex when the manager is not known)."""


@observation
class DrdaSecurity(Observation):
    """Security negotiation: ACCSEC (client), ACCSECRD (server) or SECCHK (client)."""

    PROTOCOL: ClassVar[str] = "drda"
    command: str
    """``ACCSEC``, ``ACCSECRD`` or ``SECCHK``."""
    security_mechanisms: tuple[str, ...]
    """SECMEC 0x11A2 values by name (``USRIDPWD`` 3, user id and password in clear;
    ``USRIDONL`` 4; ``EUSRIDPWD`` 9, both encrypted; ``KERSEC`` 11, Kerberos; ``PLGIN`` 15...);
    the number when unknown. A server offering several lists them all."""
    user_given: bool = False
    """SECCHK carried a user id (USRID 0x11A0)."""
    password_given: bool = False
    """SECCHK carried a password in clear (PASSWORD 0x11A1); it is never read."""


@observation
class DrdaAccessRdb(Observation):
    """ACCRDB (client) or ACCRDBRM (server), code points 0x2001 and 0x2201: the product
    identifiers of both ends once the database is accessed. The database name is not kept."""

    PROTOCOL: ClassVar[str] = "drda"
    reply: bool
    """ACCRDBRM, sent by the server."""
    product_id: str | None = None
    """PRDID 0x112E (``SQL08024``, ``JCC02100``, ``DSN12015``)."""
    product_code: str | None = None
    """``ppp`` of PRDID (see ``DrdaServerAttributes.product_code``)."""
    product_version: str | None = None
    """``vv.rr.m`` of PRDID."""
    type_definition_name: str | None = None
    """TYPDEFNAM 0x002F: the sender's data representation (``QTDSQLX86`` little-endian,
    ``QTDSQLASC`` big-endian ASCII, ``QTDSQL370`` System/390 EBCDIC, ``QTDSQL400``,
    ``QTDSQLJVM``)."""
