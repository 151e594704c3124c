"""Dependency audit of the lock files against the PyPA advisory database (OSV format).

`pip-audit` asks OSV or PyPI's per-release JSON over the network; neither answers from the
machines this project is built on. This reads the same data from a local copy of
https://github.com/pypa/advisory-database (its `vulns/` folder) instead:

    .venv/bin/python scripts/audit_deps.py --advisories PATH/TO/advisory-database \
        requirements/main.txt requirements/rasa.txt

Prints, per lock file, each pinned package with an advisory affecting its version (by the
advisory's ECOSYSTEM ranges, else its list of versions) and the first fixed release. Exits 1 when
any is found. Where OSV is reachable, `pip-audit -r requirements/main.txt` gives the same answer
with the newest data.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)")


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    fixed: str | None


def pins(lock: Path) -> dict[str, str]:
    found = {}
    for line in lock.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonicalize_name(match[1])] = match[2].split("+")[0]
    return found


def _version(text: object) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def _affected(version: Version, entry: dict) -> tuple[bool, str | None]:
    """Whether `version` falls in an affected entry's ECOSYSTEM ranges (OSV: each `introduced`
    opens an interval that the next `fixed` or `last_affected` closes), else in its versions
    list; the release that fixed it when the advisory names one."""
    for block in entry.get("ranges") or []:
        if block.get("type") != "ECOSYSTEM":
            continue
        start: Version | None = None
        for event in block.get("events") or []:
            if "introduced" in event:
                start = _version(event["introduced"])
            elif "fixed" in event:
                end = _version(event["fixed"])
                if start is not None and end is not None and start <= version < end:
                    return True, str(end)
                start = None
            elif "last_affected" in event:
                end = _version(event["last_affected"])
                if start is not None and end is not None and start <= version <= end:
                    return True, None
                start = None
        if start is not None and version >= start:
            return True, None
    return str(version) in {str(v) for v in entry.get("versions") or []}, None


def audit(lock: Path, advisories: Path) -> list[Finding]:
    findings = []
    for package, pinned in sorted(pins(lock).items()):
        folder = advisories / package
        if not folder.is_dir():
            continue
        try:
            version = Version(pinned)
        except InvalidVersion:
            continue
        for path in sorted(folder.glob("*.yaml")):
            advisory = yaml.safe_load(path.read_text())
            if advisory.get("withdrawn"):
                continue
            for entry in advisory.get("affected") or []:
                if canonicalize_name(entry.get("package", {}).get("name", "")) != package:
                    continue
                hit, fixed = _affected(version, entry)
                if hit:
                    aliases = tuple(a for a in advisory.get("aliases") or [] if a.startswith("CVE"))
                    findings.append(Finding(package, pinned, advisory["id"], aliases, fixed))
                    break
    return findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--advisories", type=Path, required=True, help="advisory-database copy")
    parser.add_argument("locks", type=Path, nargs="+")
    args = parser.parse_args()
    vulns = args.advisories / "vulns"
    if not vulns.is_dir():
        parser.error(f"{vulns} is not a folder: give a copy of pypa/advisory-database")
    found_any = False
    for lock in args.locks:
        findings = audit(lock, vulns)
        packages = sorted({f.package for f in findings})
        print(f"\n{lock}: {len(pins(lock))} pinned, {len(findings)} advisories in "
              f"{len(packages)} packages")  # fmt: skip
        for f in findings:
            cves = ", ".join(f.aliases) or "-"
            print(f"  {f.package}=={f.version}  {f.advisory} ({cves})  fixed in {f.fixed or '?'}")
        found_any |= bool(findings)
    return 1 if found_any else 0


if __name__ == "__main__":
    sys.exit(main())
