#!/usr/bin/env python3
"""Write an NVD-shaped feed of N CVEs for the import benchmark (issue 4, item 5).

Usage::

    python benchmarks/make_nvd_feed.py --cves 300000 --out bench-data/nvd-300k.json
    python benchmarks/make_nvd_feed.py --cves 1000 --out /tmp/nvd-1k.json --indent 0

The file has the shape of an NVD CVE API 2.0 response and of NVD's ``nvdcve-2.0-*.json``
feed files (``resultsPerPage``, ``format: NVD_CVE``, ``version: 2.0``, ``vulnerabilities[]``
of ``{"cve": {...}}``), with records like the real ones: English descriptions of realistic
length (often with a Spanish translation beside them, as NVD now adds), one to three CVSS
metrics (v4.0, v3.1, v3.0, v2; Primary from ``nvd@nist.gov`` and Secondary from the CNA)
whose scores the ``cvss`` library computed from their vectors, CWEs (sometimes
``NVD-CWE-Other``/``NVD-CWE-noinfo``), one to three configurations with several ``cpeMatch``
entries carrying version ranges over a vocabulary of about 3,000 vendor:product pairs
(medical ones among them: ``offis:dcmtk``, ``ge:*``, ``philips:*``, ``bbraun:*``...), firmware
plus hardware ``AND`` configurations, references with tags; a few records are ``Rejected``
or ``Received`` without configurations, as in the real feed.

Records are written one at a time (bounded memory) from a fixed seed, so the same arguments
always give the same bytes. Prints the file's size and how long writing it took.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cvss import CVSS2, CVSS3, CVSS4

SEED = 20261122
VECTOR_POOL = 400
"""Distinct vectors per CVSS version (their scores are computed once)."""

MEDICAL_PRODUCTS = {
    "offis": ["dcmtk"],
    "ge": [
        "aestiva_7100_firmware",
        "aestiva_7900_firmware",
        "aespire_7100_firmware",
        "aespire_7900_firmware",
        "carescape_b450_firmware",
        "carescape_b650_firmware",
        "carescape_central_station",
        "apex_pro_telemetry_server",
        "centricity_pacs",
        "mac_5500_firmware",
        "muse",
        "vivid_e95_firmware",
    ],
    "gehealthcare": ["centricity_universal_viewer", "edison_datalogger", "imagingworks"],
    "philips": [
        "intellivue_mx400_firmware",
        "intellivue_mx800_firmware",
        "intellivue_information_center_ix",
        "intellispace_portal",
        "intellispace_cardiovascular",
        "efficia_cm10_firmware",
        "patient_information_center_ix",
        "e-alert_firmware",
        "vue_pacs",
        "xper_connect",
        "hospital_information_system",
        "brilliance_ct_firmware",
    ],
    "bbraun": [
        "spacecom",
        "datamodule_compactplus",
        "infusomat_space_large_volume_pump_firmware",
        "perfusor_space_firmware",
        "outlook_400es_firmware",
    ],
    "medtronic": [
        "mycarelink_monitor_firmware",
        "minimed_600_series_firmware",
        "conexus_firmware",
        "valleylab_ft10_firmware",
        "smart_model_5400_firmware",
    ],
    "bd": ["alaris_pc_unit_firmware", "pyxis_medstation_es", "facsuite", "synapsys"],
    "baxter": ["sigma_spectrum_firmware", "prismaflex_firmware", "welch_allyn_connex_cvsm"],
    "siemens": ["syngo_mr_xa", "syngo.plaza", "somatom_firmware", "healthineers_atellica"],
    "orthanc-server": ["orthanc"],
    "osimis": ["webviewer"],
    "hillrom": ["welch_allyn_connex_spot_monitor_firmware", "welch_allyn_cardiology_suite"],
    "carestream": ["vue_ris"],
    "fujifilm": ["synapse_mobility", "fcr_capsula_x_firmware"],
    "microdicom": ["dicom_viewer"],
    "santesoft": ["sante_pacs_server", "sante_dicom_viewer_pro"],
    "dcm4che": ["dcm4chee-arc-light"],
    "treck": ["tcp\\/ip"],
    "windriver": ["vxworks"],
    "zoll": ["defibrillator_dashboard"],
    "smiths-medical": ["medfusion_4000_firmware"],
    "draeger": ["infinity_delta_firmware"],
    "spacelabs": ["xprezzon_firmware"],
    "natus": ["xltek_neuroworks"],
    "capsuletech": ["smartlinx_neuron_2_firmware"],
    "roche": ["cobas_pulse_firmware"],
    "abbott": ["fingerstick_glucose_firmware"],
    "insulet": ["omnipod_firmware"],
    "alivecor": ["kardiamobile"],
}
COMMON_PRODUCTS = {
    "microsoft": [
        "windows_7",
        "windows_10_1809",
        "windows_10_21h2",
        "windows_11_23h2",
        "windows_server_2008",
        "windows_server_2019",
        "windows_xp",
        "office",
        "edge_chromium",
        ".net_framework",
        "sql_server",
        "exchange_server",
    ],
    "linux": ["linux_kernel"],
    "openssl": ["openssl"],
    "apache": ["http_server", "tomcat", "log4j", "struts", "commons_text"],
    "oracle": ["java_se", "mysql", "weblogic_server"],
    "google": ["chrome", "android"],
    "mozilla": ["firefox", "thunderbird"],
    "cisco": ["ios", "ios_xe", "adaptive_security_appliance_software"],
    "vmware": ["esxi", "vcenter_server"],
    "adobe": ["acrobat_reader_dc"],
    "jenkins": ["jenkins"],
    "wordpress": ["wordpress"],
    "php": ["php"],
    "python": ["python"],
    "nodejs": ["node.js"],
    "busybox": ["busybox"],
    "openbsd": ["openssh"],
    "isc": ["bind", "dhcp"],
    "curl": ["curl", "libcurl"],
    "sqlite": ["sqlite"],
    "zlib": ["zlib"],
    "gnu": ["glibc", "bash"],
    "samba": ["samba"],
    "fortinet": ["fortios"],
    "paloaltonetworks": ["pan-os"],
}
SYLLABLES = (
    "ac ad al an ar as at ba be bi bo ca ce ci co cu da de di do du ec el em en ep er es ev "
    "fa fe fi fo ga ge gi go ha he hi ho ix ka ke ki ko la le li lo lu ma me mi mo mu na ne "
    "ni no nu ob om on op or os ox pa pe pi po pu qu ra re ri ro ru sa se si so su ta te ti "
    "to tu ul um un ur va ve vi vo xa xe ya yo za ze zi zo"
).split()
PRODUCT_WORDS = (
    "server manager portal gateway viewer monitor agent controller suite router switch "
    "camera printer firmware cloud connect station hub bridge studio desktop mobile web "
    "pacs ris lis scanner pump analyzer console appliance engine platform framework plugin"
).split()
ASSIGNERS = (
    "cve@mitre.org",
    "ics-cert@hq.dhs.gov",
    "secure@microsoft.com",
    "security@apache.org",
    "psirt@cisco.com",
    "security-advisories@github.com",
    "cna@vuldb.com",
    "productcert@siemens.com",
    "security@wordfence.com",
    "134c704f-9b21-4f2e-91b3-4a467353bcc0",
)
STATUSES = (
    ("Analyzed", 55),
    ("Modified", 20),
    ("Awaiting Analysis", 9),
    ("Deferred", 6),
    ("Received", 3),
    ("Undergoing Analysis", 3),
    ("Rejected", 4),
)
CWES = (
    "CWE-79 CWE-787 CWE-89 CWE-20 CWE-125 CWE-78 CWE-416 CWE-22 CWE-352 CWE-434 CWE-476 "
    "CWE-287 CWE-190 CWE-502 CWE-77 CWE-119 CWE-798 CWE-918 CWE-306 CWE-362 CWE-269 CWE-94 "
    "CWE-863 CWE-276 CWE-200 CWE-522 CWE-400 CWE-611 CWE-319 CWE-295 CWE-121 CWE-122"
).split()
REFERENCE_TAGS = (
    "Patch",
    "Vendor Advisory",
    "Third Party Advisory",
    "Exploit",
    "Issue Tracking",
    "Mailing List",
    "Release Notes",
    "VDB Entry",
    "US Government Resource",
    "Mitigation",
)
WORDS = (
    "a an the in of to and or allows attackers remote local authenticated unauthenticated "
    "users via crafted request packet file input parameter buffer overflow heap stack "
    "out-of-bounds read write use-after-free memory corruption cross-site scripting SQL "
    "injection command path traversal improper validation authentication bypass privilege "
    "escalation denial service execute arbitrary code component function module interface "
    "web management API configuration certificate credentials session token firmware device "
    "network protocol DICOM HL7 server client version versions before prior through earlier "
    "could lead information disclosure sensitive data when processing handling specially "
    "vulnerability exists because does not properly sanitize check length"
).split()
SPANISH = (
    "una vulnerabilidad en el la de los las permite a atacantes remotos ejecutar codigo "
    "arbitrario por medio de una petición manipulada desbordamiento del búfer servidor "
    "versiones anteriores dispositivo red configuración"
).split()


def vocabulary(rng: random.Random) -> list[tuple[str, str]]:
    """About 3,000 vendor:product pairs: the medical and common ones, then invented ones."""
    pairs = [
        (v, p)
        for table in (MEDICAL_PRODUCTS, COMMON_PRODUCTS)
        for v, ps in table.items()
        for p in ps
    ]
    vendors: set[str] = set()
    while len(pairs) < 3000:
        vendor = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if vendor in vendors:
            continue
        vendors.add(vendor)
        for _ in range(rng.randint(1, 7)):
            words = rng.sample(PRODUCT_WORDS, rng.randint(1, 3))
            pairs.append((vendor, "_".join(words)))
    return pairs


def metric_pool(rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    """``VECTOR_POOL`` random vectors per CVSS version with their computed ``cvssData``."""
    pool: dict[str, list[dict[str, Any]]] = {"4.0": [], "3.1": [], "3.0": [], "2.0": []}
    names3 = {
        "AV": (
            "attackVector",
            {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"},
        ),
        "AC": ("attackComplexity", {"L": "LOW", "H": "HIGH"}),
        "PR": ("privilegesRequired", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
        "UI": ("userInteraction", {"N": "NONE", "R": "REQUIRED"}),
        "S": ("scope", {"U": "UNCHANGED", "C": "CHANGED"}),
        "C": ("confidentialityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
        "I": ("integrityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
        "A": ("availabilityImpact", {"N": "NONE", "L": "LOW", "H": "HIGH"}),
    }
    for version in ("3.1", "3.0"):
        for _ in range(VECTOR_POOL):
            parts = {key: rng.choice(list(values)) for key, (_n, values) in names3.items()}
            vector = f"CVSS:{version}/" + "/".join(f"{k}:{v}" for k, v in parts.items())
            cvss = CVSS3(vector)
            data: dict[str, Any] = {
                "version": version,
                "vectorString": vector,
                "baseScore": cvss.scores()[0],
                "baseSeverity": cvss.severities()[0].upper(),
            }
            for key, (name, values) in names3.items():
                data[name] = values[parts[key]]
            extra = {
                "exploitabilityScore": round(rng.uniform(0.1, 3.9), 1),
                "impactScore": round(rng.uniform(1.4, 6.0), 1),
            }
            pool[version].append({"cvssData": data, **extra})
    names2 = {
        "AV": ("accessVector", {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL"}),
        "AC": ("accessComplexity", {"L": "LOW", "M": "MEDIUM", "H": "HIGH"}),
        "Au": ("authentication", {"N": "NONE", "S": "SINGLE", "M": "MULTIPLE"}),
        "C": ("confidentialityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
        "I": ("integrityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
        "A": ("availabilityImpact", {"N": "NONE", "P": "PARTIAL", "C": "COMPLETE"}),
    }
    for _ in range(VECTOR_POOL):
        parts = {key: rng.choice(list(values)) for key, (_n, values) in names2.items()}
        vector = "/".join(f"{k}:{v}" for k, v in parts.items())
        cvss2 = CVSS2(vector)
        data = {"version": "2.0", "vectorString": vector, "baseScore": cvss2.scores()[0]}
        for key, (name, values) in names2.items():
            data[name] = values[parts[key]]
        pool["2.0"].append(
            {
                "cvssData": data,
                "baseSeverity": cvss2.severities()[0].upper(),
                "exploitabilityScore": round(rng.uniform(1.0, 10.0), 1),
                "impactScore": round(rng.uniform(2.9, 10.0), 1),
                "acInsufInfo": False,
                "obtainAllPrivilege": False,
                "obtainUserPrivilege": False,
                "obtainOtherPrivilege": False,
                "userInteractionRequired": rng.random() < 0.2,
            }
        )
    keys4 = {
        "AV": "NALP",
        "AC": "LH",
        "AT": "NP",
        "PR": "NLH",
        "UI": "NPA",
        "VC": "HLN",
        "VI": "HLN",
        "VA": "HLN",
        "SC": "HLN",
        "SI": "HLN",
        "SA": "HLN",
    }
    for _ in range(VECTOR_POOL):
        vector = "CVSS:4.0/" + "/".join(f"{k}:{rng.choice(v)}" for k, v in keys4.items())
        cvss4 = CVSS4(vector)
        data = {
            "version": "4.0",
            "vectorString": vector,
            "baseScore": cvss4.base_score,
            "baseSeverity": str(cvss4.severity).upper(),
            "exploitMaturity": "NOT_DEFINED",
        }
        pool["4.0"].append({"cvssData": data})
    return pool


class FeedWriter:
    """One generator state: the vocabulary, the metric pools and the random stream."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.pairs = vocabulary(self.rng)
        self.medical = [p for p in self.pairs if p[0] in MEDICAL_PRODUCTS]
        self.pool = metric_pool(self.rng)
        self.statuses = [s for s, _ in STATUSES]
        self.status_weights = [w for _, w in STATUSES]
        self.start = datetime(1999, 1, 1)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4)).upper()

    def words(self, count: int, vocabulary: tuple[str, ...] | list[str] = WORDS) -> str:
        text = " ".join(self.rng.choice(vocabulary) for _ in range(count))
        return text[0].upper() + text[1:] + "."

    def version(self) -> str:
        rng = self.rng
        if rng.random() < 0.08:
            return f"{rng.choice('luav')}{rng.randint(10, 99)}"
        return ".".join(str(rng.randint(0, 20)) for _ in range(rng.randint(2, 4)))

    def cpe_match(self, part: str, vendor: str, product: str, vulnerable: bool) -> dict[str, Any]:
        rng = self.rng
        match: dict[str, Any] = {"vulnerable": vulnerable}
        roll = rng.random()
        version = "*"
        if not vulnerable or roll < 0.35:
            version = "-" if part == "h" or (part == "o" and roll < 0.1) else self.version()
        match["criteria"] = f"cpe:2.3:{part}:{vendor}:{product}:{version}:*:*:*:*:*:*:*"
        if version == "*":
            if rng.random() < 0.5:
                start = self.version()
                key = "versionStartIncluding" if rng.random() < 0.8 else "versionStartExcluding"
                match[key] = start
            end_key = "versionEndExcluding" if rng.random() < 0.7 else "versionEndIncluding"
            match[end_key] = self.version()
        match["matchCriteriaId"] = self.uuid()
        return match

    def configurations(self) -> list[dict[str, Any]]:
        rng = self.rng
        configurations = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
            vendor, product = rng.choice(self.medical if rng.random() < 0.05 else self.pairs)
            shape = rng.random()
            if shape < 0.65:  # one OR node of application matches
                products = [product] + [rng.choice(self.pairs)[1] for _ in range(rng.randint(0, 2))]
                matches = [
                    self.cpe_match("a", vendor, p, True)
                    for p in products
                    for _ in range(rng.randint(1, 3))
                ]
                configurations.append(
                    {"nodes": [{"operator": "OR", "negate": False, "cpeMatch": matches}]}
                )
            elif shape < 0.9:  # firmware AND hardware
                firmware = product if product.endswith("_firmware") else f"{product}_firmware"
                hardware = firmware.removesuffix("_firmware")
                configurations.append(
                    {
                        "operator": "AND",
                        "nodes": [
                            {
                                "operator": "OR",
                                "negate": False,
                                "cpeMatch": [
                                    self.cpe_match("o", vendor, firmware, True)
                                    for _ in range(rng.randint(1, 4))
                                ],
                            },
                            {
                                "operator": "OR",
                                "negate": False,
                                "cpeMatch": [self.cpe_match("h", vendor, hardware, False)],
                            },
                        ],
                    }
                )
            else:  # application running on an operating system
                os_vendor, os_product = rng.choice(
                    (
                        ("microsoft", "windows_10_1809"),
                        ("linux", "linux_kernel"),
                        ("apple", "macos"),
                        ("microsoft", "windows_server_2019"),
                    )
                )
                configurations.append(
                    {
                        "operator": "AND",
                        "nodes": [
                            {
                                "operator": "OR",
                                "negate": False,
                                "cpeMatch": [
                                    self.cpe_match("a", vendor, product, True)
                                    for _ in range(rng.randint(1, 5))
                                ],
                            },
                            {
                                "operator": "OR",
                                "negate": False,
                                "cpeMatch": [
                                    self.cpe_match("o", os_vendor, os_product, False)
                                    for _ in range(rng.randint(1, 2))
                                ],
                            },
                        ],
                    }
                )
        return configurations

    def metrics(self, assigner: str, analysed: bool) -> dict[str, Any]:
        rng = self.rng
        metrics: dict[str, list[dict[str, Any]]] = {}
        count = rng.choice((1, 1, 2, 2, 2, 3))
        versions = rng.sample(("4.0", "3.1", "3.1", "3.1", "3.0", "2.0"), count)
        for version in dict.fromkeys(versions):
            key = {
                "4.0": "cvssMetricV40",
                "3.1": "cvssMetricV31",
                "3.0": "cvssMetricV30",
                "2.0": "cvssMetricV2",
            }[version]
            entries = []
            if analysed and version != "4.0":
                entries.append(
                    {"source": "nvd@nist.gov", "type": "Primary", **rng.choice(self.pool[version])}
                )
            if not entries or rng.random() < 0.4:
                entries.append(
                    {"source": assigner, "type": "Secondary", **rng.choice(self.pool[version])}
                )
            metrics[key] = entries
        return metrics

    def references(self, vendor: str, cve_id: str) -> list[dict[str, Any]]:
        rng = self.rng
        hosts = (
            f"https://www.{vendor}.com/security/advisories/",
            "https://github.com/advisories/",
            "https://www.cisa.gov/news-events/ics-advisories/",
            "http://www.securityfocus.com/bid/",
            "https://lists.debian.org/debian-lts-announce/",
        )
        references = []
        for _ in range(rng.randint(1, 7)):
            url = f"{rng.choice(hosts)}{cve_id.lower()}-{rng.randint(1, 99999)}"
            tags = rng.sample(REFERENCE_TAGS, rng.randint(0, 3))
            references.append({"url": url, "source": rng.choice(ASSIGNERS), "tags": tags})
        return references

    def record(self, cve_id: str) -> dict[str, Any]:
        rng = self.rng
        published = self.start + timedelta(
            seconds=rng.randint(0, 27 * 365 * 86400), milliseconds=rng.randint(0, 999)
        )
        modified = published + timedelta(
            seconds=rng.randint(0, 4 * 365 * 86400), milliseconds=rng.randint(0, 999)
        )
        status = rng.choices(self.statuses, self.status_weights)[0]
        assigner = rng.choice(ASSIGNERS)
        cve: dict[str, Any] = {
            "id": cve_id,
            "sourceIdentifier": assigner,
            "published": published.isoformat(timespec="milliseconds"),
            "lastModified": modified.isoformat(timespec="milliseconds"),
            "vulnStatus": status,
            "cveTags": []
            if rng.random() < 0.97
            else [{"sourceIdentifier": assigner, "tags": ["disputed"]}],
        }
        if status == "Rejected":
            cve["descriptions"] = [
                {
                    "lang": "en",
                    "value": "Rejected reason: This candidate was "
                    "withdrawn by its CNA. Further investigation showed that it "
                    "was not a security issue.",
                }
            ]
            cve["metrics"] = {}
            cve["references"] = []
            return {"cve": cve}
        descriptions = [{"lang": "en", "value": self.words(rng.randint(25, 140))}]
        if rng.random() < 0.6:
            descriptions.append({"lang": "es", "value": self.words(rng.randint(25, 140), SPANISH)})
        cve["descriptions"] = descriptions
        analysed = status in ("Analyzed", "Modified")
        cve["metrics"] = self.metrics(assigner, analysed)
        weaknesses = []
        for source, kind in (("nvd@nist.gov", "Primary"), (assigner, "Secondary")):
            if (kind == "Primary") != analysed and rng.random() < 0.7:
                continue
            roll = rng.random()
            value = (
                "NVD-CWE-Other"
                if roll < 0.05
                else "NVD-CWE-noinfo"
                if roll < 0.1
                else rng.choice(CWES)
            )
            weaknesses.append(
                {"source": source, "type": kind, "description": [{"lang": "en", "value": value}]}
            )
        cve["weaknesses"] = weaknesses
        vendor = rng.choice(self.pairs)[0]
        if analysed:
            cve["configurations"] = self.configurations()
        cve["references"] = self.references(vendor, cve_id)
        return {"cve": cve}

    def records(self, count: int) -> Iterator[dict[str, Any]]:
        numbers: dict[int, int] = {}
        for index in range(count):
            year = 1999 + index * 28 // count
            numbers[year] = numbers.get(year, 999) + 1
            yield self.record(f"CVE-{year}-{numbers[year]:04d}")


def write_feed(path: Path, count: int, seed: int, indent: int | None) -> int:
    """Write the feed; return its size in bytes."""
    writer = FeedWriter(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {
        "resultsPerPage": count,
        "startIndex": 0,
        "totalResults": count,
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-11-22T00:00:00.000",
    }
    with path.open("w", encoding="utf-8", newline="\n") as out:
        pad = "\n" + " " * indent if indent else ""
        out.write("{" + ",".join(f'{pad}"{k}": {json.dumps(v)}' for k, v in head.items()))
        out.write(f',{pad}"vulnerabilities": [')
        for index, record in enumerate(writer.records(count)):
            text = json.dumps(record, indent=indent, ensure_ascii=False)
            if indent:
                text = text.replace("\n", "\n" + " " * (2 * indent))
                out.write(("," if index else "") + "\n" + " " * (2 * indent) + text)
            else:
                out.write(("," if index else "") + text)
        out.write(("\n" + " " * indent if indent else "") + "]" + ("\n" if indent else "") + "}\n")
    return path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cves", type=int, default=300_000, help="number of CVE records")
    parser.add_argument("--out", type=Path, required=True, help="file to write")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--indent",
        type=int,
        default=2,
        help="JSON indentation (0 = compact, like the API's answers)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    size = write_feed(args.out, args.cves, args.seed, args.indent or None)
    seconds = time.perf_counter() - started
    print(f"{args.out}: {args.cves} CVEs, {size / 2**20:.1f} MiB, written in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
