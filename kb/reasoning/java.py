"""Which Java runs the reasoner (owlready2's HermiT or Pellet), and the errors when none can."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import owlready2
import owlready2.reasoning

from kb.errors import KBError

NO_JAVA = (
    "Java not found: reasoning needs a Java runtime (owlready2 HermiT/Pellet); "
    "serving the last inferred graph shipped in data/inferred/inferred.ttl"
)


class ReasonerError(KBError):
    """The reasoner could not run or crashed (message is one line)."""

    status = 500


class ReasonerUnavailable(ReasonerError):
    """No usable Java runtime for the requested reasoner."""

    status = 503


def executable(exe: str) -> str | None:
    """Return the executable path for a command name or path, or None."""
    path = exe if os.sep in exe else shutil.which(exe)
    return path if path and os.path.isfile(path) and os.access(path, os.X_OK) else None


def java_available() -> bool:
    """Tell whether the Java runtime owlready2 will call (owlready2.JAVA_EXE) exists."""
    return executable(owlready2.JAVA_EXE) is not None


_JAVA_MAJOR: dict[str, int | None] = {}


def _java_major(path: str) -> int | None:
    """Return the major version of a java executable (8, 17, 25...), or None."""
    if path not in _JAVA_MAJOR:
        try:
            out = subprocess.run([path, "-version"], capture_output=True, timeout=30).stderr
            ver = out.decode("utf-8", "replace").split('"')[1]
            parts = ver.split(".")
            _JAVA_MAJOR[path] = int(parts[1] if parts[0] == "1" else parts[0].split("-")[0])
        except (OSError, IndexError, ValueError, subprocess.SubprocessError):
            _JAVA_MAJOR[path] = None
    return _JAVA_MAJOR[path]


@functools.cache
def _pellet_min_java() -> int:
    """Return the Java version Pellet's bundled jars need.

    owlready2 0.51 ships a patched Jena (jena-arq-fixed*.jar) whose RDF/XML classes are
    compiled for a newer Java than the rest; Pellet loads them on every run.
    """
    import zipfile

    need = 8
    folder = Path(owlready2.reasoning._HERE) / "pellet"
    for jar in folder.glob("jena-*-fixed*.jar"):
        with zipfile.ZipFile(jar) as zf:
            for name in zf.namelist():
                if name.endswith(".class"):
                    header = zf.read(name)[:8]
                    need = max(need, int.from_bytes(header[6:8], "big") - 44)
    return need


def java_for(reasoner: str) -> str:
    """Pick the java executable for a reasoner, or raise ReasonerUnavailable."""
    default = executable(owlready2.JAVA_EXE)
    if default is None:
        raise ReasonerUnavailable(NO_JAVA)
    if reasoner == "hermit":
        return default
    need = _pellet_min_java()
    candidates = [default, os.environ.get("CKB_PELLET_JAVA", "")]
    if os.environ.get("JAVA_HOME"):
        candidates.append(os.path.join(os.environ["JAVA_HOME"], "bin", "java"))
    candidates += sorted(str(p) for p in Path("/usr/lib/jvm").glob("*/bin/java"))
    for cand in candidates:
        path = executable(cand) if cand else None
        if path and (_java_major(path) or 0) >= need:
            return path
    raise ReasonerUnavailable(
        f"Pellet (owlready2 {owlready2.VERSION}) needs Java {need}+ but {default} is Java "
        f"{_java_major(default)}; set CKB_PELLET_JAVA to a newer java or use the hermit reasoner"
    )
