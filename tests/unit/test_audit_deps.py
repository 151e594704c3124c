"""scripts/audit_deps.py: a pinned version is matched against OSV advisories as OSV reads them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from core.settings import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("audit_deps", PROJECT_ROOT / "scripts/audit_deps.py")
assert spec is not None and spec.loader is not None
audit_deps = importlib.util.module_from_spec(spec)
sys.modules["audit_deps"] = audit_deps  # its dataclasses look themselves up there
spec.loader.exec_module(audit_deps)

ADVISORY = """id: PYSEC-0000-1
aliases: [CVE-2099-1, GHSA-xxxx]
affected:
- package: {{ecosystem: PyPI, name: {name}}}
  ranges:
  - type: ECOSYSTEM
    events: [{{introduced: "0"}}, {{fixed: "1.2"}}, {{introduced: "2.0"}}, {{last_affected: "2.1"}}]
  versions: ["0.9", "1.0", "1.1", "2.0", "2.1"]
"""


def findings(tmp_path: Path, pins: str) -> list[tuple[str, str | None]]:
    folder = tmp_path / "vulns" / "paquete-x"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "PYSEC-0000-1.yaml").write_text(ADVISORY.format(name="Paquete_X"))
    lock = tmp_path / "lock.txt"
    lock.write_text(pins)
    return [(f.version, f.fixed) for f in audit_deps.audit(lock, tmp_path / "vulns")]


def test_versions_inside_and_outside_the_ranges(tmp_path: Path) -> None:
    assert findings(tmp_path, "paquete-x==1.1\n") == [("1.1", "1.2")]
    assert findings(tmp_path, "Paquete.X==1.2\n") == []  # fixed; names compared canonically
    assert findings(tmp_path, "paquete_x==2.1 ; python_version>'3'\n") == [("2.1", None)]
    assert findings(tmp_path, "paquete-x==2.2\n") == []  # past the last affected
    assert findings(tmp_path, "otro==1.0\n# paquete-x==1.0 (a comment)\n") == []
