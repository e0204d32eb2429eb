"""A UCDP GED-shaped CSV generator (same header as GED 19.1), deterministic for a seed, streamed to disk."""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

HEADER = ("id", "year", "active_year", "type_of_violence", "conflict_new_id", "conflict_name",
          "dyad_new_id", "dyad_name", "side_a_new_id", "gwnoa", "side_a", "side_b_new_id", "gwnob",
          "side_b", "number_of_sources", "source_article", "source_office", "source_date",
          "source_headline", "source_original", "where_prec", "where_coordinates", "adm_1", "adm_2",
          "latitude", "longitude", "geom_wkt", "priogrid_gid", "country", "country_id", "region",
          "event_clarity", "date_prec", "date_start", "date_end", "deaths_a", "deaths_b",
          "deaths_civilians", "deaths_unknown", "low", "best", "high")
COUNTRIES = [("Syria", 652, 35.0, 38.0), ("Afghanistan", 700, 34.0, 66.0), ("Nigeria", 475, 9.0, 8.0),
             ("Colombia", 100, 4.0, -73.0), ("Myanmar (Burma)", 775, 21.0, 96.0),
             ("Bangladesh", 771, 23.7, 90.4)]
OFFICES = ["Agence France Presse", "Reuters News", "BBC Monitoring", "Associated Press", "Xinhua",
           "Al Jazeera"]
ORIGINALS = ["police", "officials", "witnesses", "military", "local residents", "rebel spokesman"]


def rows(n: int, seed: int):
    """Yield n GED-shaped rows as lists in HEADER order."""
    rnd = random.Random(seed)
    actors = [(1000 + i, f"Armed group {i}") for i in range(400)]
    for i in range(n):
        country, cid, lat0, lon0 = COUNTRIES[i % len(COUNTRIES)]
        tov = rnd.choice("1123")
        a_id, side_a = (cid, f"Government of {country}") if tov == "1" else rnd.choice(actors)
        b_id, side_b = (1, "Civilians") if tov == "3" else rnd.choice(actors)
        start = date(1989, 1, 1) + timedelta(days=rnd.randrange(11000))
        prec = rnd.choice("1111112345")
        end = start + timedelta(days={"1": 0, "2": 3, "3": 6, "4": 20, "5": 90}[prec])
        da, db, dc, du = (rnd.randrange(6) for _ in range(4))
        best = da + db + dc + du
        office = ";".join(rnd.sample(OFFICES, rnd.randint(0, 2)))
        headline = f"Clashes reported near town {i % 5000}" if office else ""
        lat, lon = round(lat0 + rnd.uniform(-2, 2), 6), round(lon0 + rnd.uniform(-2, 2), 6)
        dyad = f"{side_a} - {side_b}"
        day = start.isoformat()
        yield [500000 + i, start.year, 1, tov, 9000 + a_id % 50, dyad, 20000 + a_id * 7 + b_id, dyad, a_id,
               "", side_a, b_id, "", side_b, rnd.choice(["-1", "1", "2"]),
               f'"{office or "Unknown"},{day},{headline}"', office, day if office else "",
               headline, rnd.choice(ORIGINALS), rnd.choice("1112234567"), f"town {i % 5000}",
               f"Province {i % 40}", f"District {i % 400}", lat, lon, f"POINT ({lon} {lat})",
               100000 + i % 90000,
               country, cid, "Asia", rnd.choice("1112"), prec, start.isoformat(), end.isoformat(),
               da, db, dc, du, max(0, best - 1), best, best + rnd.randrange(4)]


def write(path: Path, n: int, seed: int = 7) -> Path:
    """Write n rows to path (UTF-8, CSV quoting as in GED)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows(n, seed))
    return path


def main() -> None:
    """python -m benchmarks.generate_ged --events N -o FILE.csv"""
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--events", type=int, default=300_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("-o", "--output", type=Path, required=True)
    a = p.parse_args()
    write(a.output, a.events, a.seed)


if __name__ == "__main__":
    main()
