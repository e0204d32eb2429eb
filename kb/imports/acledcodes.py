"""ACLED's codes read from a row (numbers or the text newer exports write) and written back as they came.

Each code is a SKOS concept in ontology/datasets.ttl or ontology/alignments.ttl (``ckbr:acled-...``);
a file's way of writing them (numbers or text, the date format) is kept once per import as
``ckb:codeStyle`` so that a re-export writes the file the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from .common import DIGITS, BadRow, shown

# inter codes 1-8 and the names newer exports write instead (singular and plural both seen)
INTER_TEXT = ("State forces", "Rebel group", "Political militia", "Identity militia", "Rioters",
              "Protesters", "Civilians", "External/Other forces")
_INTER_READ = {t.lower(): str(n) for n, t in enumerate(INTER_TEXT, 1)} | {
    "rebel groups": "2", "political militias": "3", "identity militias": "4", "external/other force": "8",
    "other forces": "8", "external forces": "8"}
NO_ACTOR = ("", "0")  # what a file writes in inter2 when there is no actor 2
DISORDER = ("Political violence", "Demonstrations", "Strategic developments")  # ACLED's order
CIVILIANS_TARGETED = "Civilians targeted"
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y")


def inter_code(raw: str, column: str) -> tuple[str, str]:
    """(code '1'..'8', 'numeric' or 'text') for an inter cell; BadRow for anything else."""
    value = raw.strip()
    if value in {str(n) for n in range(1, 9)}:
        return value, "numeric"
    code = _INTER_READ.get(" ".join(value.lower().split()))
    if code is None:
        raise BadRow(f"{column} {shown(value)} is not an ACLED actor type (1 to 8, or a name such as "
                     f"'State forces')")
    return code, "text"


def inter_text(code: str, style: str) -> str:
    """An inter code as a file in this style writes it."""
    return INTER_TEXT[int(code) - 1] if style == "text" else code


def interaction_code(raw: str) -> tuple[str, str]:
    """(two-digit code, style) for an interaction cell: '12', '70', 'State forces-Rebel group',
    'Civilians only' or 'Sole Civilians'."""
    value = " ".join(raw.strip().split())
    if len(value) == 2 and value.isdigit() and value[0] != "0":
        first, second = value
        if second == "0" or first <= second:
            return value, "numeric"
    lowered = value.lower()
    single = lowered.removesuffix(" only") if lowered.endswith(" only") else (
        lowered.removeprefix("sole ") if lowered.startswith("sole ") else None)
    if single is not None and single in _INTER_READ:
        return _INTER_READ[single] + "0", "text"
    for cut in range(len(lowered)):  # 'A-B': a name may hold a slash but not the dash between names
        if lowered[cut] == "-" and lowered[:cut] in _INTER_READ and lowered[cut + 1:] in _INTER_READ:
            a, b = sorted((_INTER_READ[lowered[:cut]], _INTER_READ[lowered[cut + 1:]]))
            return a + b, "text"
    raise BadRow(f"interaction {shown(value)} is not an ACLED interaction code (e.g. 12, or "
                 f"'State forces-Rebel group')")


def interaction_text(code: str, style: str) -> str:
    """An interaction code as a file in this style writes it."""
    if style != "text":
        return code
    first = INTER_TEXT[int(code[0]) - 1]
    return f"{first} only" if code[1] == "0" else f"{first}-{INTER_TEXT[int(code[1]) - 1]}"


def disorder_types(raw: str) -> list[str]:
    """The disorder types of a disorder_type cell ('Political violence; Demonstrations')."""
    out = []
    for part in (p.strip() for p in raw.split(";")):
        if part not in DISORDER:
            raise BadRow(f"disorder_type {shown(part)} is not one of {', '.join(DISORDER)}")
        out.append(part)
    return out


def parse_date(raw: str) -> tuple[date, str]:
    """An event_date as ISO (2025-05-16) or as older exports write it (16 May 2025), and its format."""
    value = raw.strip()
    for fmt in DATE_FORMATS:
        try:
            when = datetime.strptime(value, fmt).date()
        except ValueError:
            continue
        if fmt != "%Y-%m-%d" and not value[:2].isdigit():
            fmt = fmt.replace("%d", "%-d")  # '6 May 2025', not '06 May 2025'
        return when, fmt
    raise BadRow(f"event_date {shown(value)} is neither YYYY-MM-DD nor like '16 May 2025'")


def format_date(when: date, fmt: str) -> str:
    """A date written in a recorded format ('%-d' is the day without its leading zero)."""
    return when.strftime(fmt.replace("%-d", str(when.day)))


def read_codes(row: dict[str, str], file_style: Callable[[str, str], bool]) -> dict[str, Any]:
    """The row's coded columns read and checked: inter codes, interaction, disorder, dates, stamp."""
    own: list[str] = []  # where this row writes a code unlike the file's first row: kept on the event

    def style(key: str, value: str) -> None:
        if not file_style(key, value):
            own.append(f"{key}={value}")
    when, fmt = parse_date(row["event_date"])
    style("date", fmt)
    year = (row.get("year") or "").strip()
    if year and year != str(when.year):
        raise BadRow(f"year {shown(year)} is not the year of event_date {when.isoformat()}")
    got: dict[str, Any] = {"date": when, "style": own}
    for n in ("1", "2"):
        raw, actor = row[f"inter{n}"].strip(), row[f"actor{n}"].strip()
        if not actor:
            if raw not in NO_ACTOR:
                raise BadRow(f"inter{n} is {raw!r} but actor{n} is empty")
            if n == "2":
                style("no-actor-inter", raw)
            got[n] = ""
        elif not raw:
            got[n] = ""
        else:
            got[n], how = inter_code(raw, f"inter{n}")
            style("inter", how)
    raw = (row.get("interaction") or "").strip()
    if raw:
        got["interaction"], how = interaction_code(raw)
        style("interaction", how)
    raw = (row.get("disorder_type") or "").strip()
    got["disorder"] = disorder_types(raw) if raw else []
    raw = (row.get("civilian_targeting") or "").strip()
    if raw and raw != CIVILIANS_TARGETED:
        raise BadRow(f"civilian_targeting {shown(raw)} is neither empty nor {CIVILIANS_TARGETED!r}")
    got["civilians"] = bool(raw)
    raw = (row.get("timestamp") or "").strip()
    if raw and not (DIGITS.fullmatch(raw) and len(raw) <= 12):  # seconds since 1970: 10 digits today
        raise BadRow(f"timestamp {shown(raw)} is not a time in seconds since 1970")
    got["stamp"] = datetime.fromtimestamp(int(raw), UTC) if raw else None
    return got


# the row's own spellings, kept on the event: place nodes are shared (and reconciled), these are not
LITERAL_COLUMNS = (("country", "codedCountry"), ("region", "codedRegion"), ("iso", "codedCountryCode"),
                   ("iso3", "codedCountryCode3"), ("admin1", "codedAdmin1"), ("admin2", "codedAdmin2"),
                   ("admin3", "codedAdmin3"), ("location", "codedLocation"), ("latitude", "codedLatitude"),
                   ("longitude", "codedLongitude"), ("tags", "acledTags"), ("data_id", "acledDataId"),
                   ("event_id_no_cnty", "acledEventNumber"))
