"""Deterministic generator of synthetic conflict data in the ontology/conflict.ttl vocabulary.

Streams N-Triples, so memory stays flat at any size:
python -m benchmarks.generate --triples 1000000 --seed 7 -o /tmp/synth.nt
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TextIO

CKB = "https://w3id.org/conflict-kb/ontology#"
CKBR = "https://w3id.org/conflict-kb/id/"
XSD = "http://www.w3.org/2001/XMLSchema#"
A = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
ALT = "<http://www.w3.org/2004/02/skos/core#altLabel>"
CREATED = "<http://purl.org/dc/terms/created>"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"

# Terms from the ontology's value sets (ckb: individuals and classes).
UNIT_CLASSES = ("Division", "Guard", "MilitaryUnit")
GROUP_CLASSES = ("Militia", "RebelGroup", "ArmedGroup", "ForeignFighterContingent")
PERSON_CLASSES = ("Analyst", "Official", "Spokesperson")
SUPPORT = ("AirSupport", "TroopSupport", "WeaponsSupport", "FundingSupport", "TrainingSupport",
           "PoliticalSupport", "UnspecifiedSupport")
PRECISIONS = ("DayPrecision", "MonthPrecision", "YearPrecision")
# (hedge individual, the source's word, a sentence that uses it)
HEDGES = (("Reportedly", "reportedly", "{a} reportedly {v} {b}."),
          ("Likely", "likely", "{a} likely {v} {b}."),
          ("Unlikely", "unlikely", "It is unlikely that {a} {v} {b}."),
          ("Could", "could", "{a} could have {v} {b}."),
          ("AtLeast", "at least", "At least {n} fighters of {a} {v} {b}."))
WEAPONS = ("HeavyWeapons", "SmallArms", "AerialWeapons", "Explosives")
UNQUANTIFIED = ("KilledOnBothSidesUnquantified", "DeadlyUnquantified")

ADJ = ("Desert", "Northern", "Coastal", "Free", "Loyal", "Eastern", "Golden", "Iron", "Martyrs",
       "Mountain", "Southern", "Tiger", "Victory", "Western", "Homeland", "Storm")
NOUN = ("Hawks", "Lions", "Falcons", "Shield", "Guard", "Sword", "Eagles", "Wolves", "Banner",
        "Dawn", "Knights", "Panthers")
UNIT = ("Brigade", "Division", "Battalion", "Regiment", "Corps", "Front", "Forces", "Army")
ARABIC = ("لواء", "فرقة", "كتيبة", "فوج", "فيلق", "جبهة", "قوات", "جيش")
PROVINCES = ("Idlib", "Deir ez-Zor", "Aleppo", "Homs", "Hama", "Latakia", "Tartus", "Daraa",
             "Raqqa", "Damascus", "Quneitra", "Hasakah", "Suwayda", "Rif Dimashq")
OUTLETS = ("Ahram Online", "Bas News", "Jerusalem Post", "Asharq Al-Awsat", "Enab Baladi",
           "Al-Monitor", "Agence France-Presse", "Syrian Observatory")
VERBS = ("clashed with", "attacked", "shelled positions of", "forced out", "ambushed")
BACKING_VERBS = ("backed", "armed", "funded", "trained")
START = date(2011, 3, 15)
WHEN = ("on Wednesday", "on Friday", "this week", "in recent days", "last month")


def _r(local: str) -> str:
    return f"<{CKBR}{local}>"


def _named(name: str) -> str:
    """'actor 12' -> <.../id/actor/12>: quotes and IRIs use the same numbering."""
    return _r(name.replace(" ", "/"))


def _c(local: str) -> str:
    return f"<{CKB}{local}>"


def _lit(text: str, lang: str | None = None) -> str:
    esc = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{esc}"@{lang}' if lang else f'"{esc}"'


def _typed(value: object, dtype: str) -> str:
    return f'"{value}"^^<{XSD}{dtype}>'


class _Plan:
    """Pool sizes scale with the requested size, so every size has the same shape."""

    def __init__(self, triples: int) -> None:
        self.places = max(3, triples // 2000)
        self.outlets = max(2, min(len(OUTLETS), triples // 500))
        self.people = max(2, triples // 4000)
        self.anonymous = max(2, triples // 8000)  # unnamed officials and spokesmen
        self.documents = max(3, triples // 1000)
        self.states = max(2, triples // 20000)
        self.coalitions = max(2, triples // 50000)
        self.actors = max(8, triples // 150)
        self.roots = max(2, self.actors // 60)  # top-level forces; the rest hang below them
        self.backings = max(2, self.actors // 2)
        self.memberships = max(2, self.actors // 3)


def _places(plan: _Plan, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    yield _r("place/syria"), A, _c("Country")
    yield _r("place/syria"), LABEL, _lit("Syria", "en")
    for i, name in enumerate(PROVINCES):
        yield _r(f"province/{i}"), A, _c("Province")
        yield _r(f"province/{i}"), LABEL, _lit(f"{name} Governorate", "en")
        yield _r(f"province/{i}"), _c("partOfPlace"), _r("place/syria")
    for i in range(plan.places):
        p = _r(f"place/{i}")
        yield p, A, _c("Stronghold" if rng.random() < 0.2 else "Place")
        yield p, LABEL, _lit(f"{PROVINCES[i % len(PROVINCES)]} sector {i}", "en")
        yield p, _c("partOfPlace"), _r(f"province/{i % len(PROVINCES)}")


def _sources(plan: _Plan, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    for i in range(plan.outlets):
        yield _r(f"outlet/{i}"), A, _c("MediaOutlet")
        yield _r(f"outlet/{i}"), LABEL, _lit(OUTLETS[i], "en")
    for i in range(plan.people):
        p = _r(f"person/{i}")
        yield p, A, _c(PERSON_CLASSES[i % len(PERSON_CLASSES)])
        yield p, LABEL, _lit(f"{ADJ[i % len(ADJ)]} Commentator {i}", "en")
    for i in range(plan.anonymous):
        p = _r(f"anonymous/{i}")
        yield p, A, _c("Official")
        yield p, A, _c("UnnamedAgent")
        yield p, LABEL, _lit(f"anonymous official {i}", "en")
    for i in range(plan.documents):
        d = _r(f"document/{i}")
        yield d, A, _c("Document")
        title = f"Report {i}: fighting in {PROVINCES[i % 14]}"
        yield d, LABEL, _lit(title, "en")
        yield d, _c("headline"), _lit(title)
        yield d, _c("namesOutlet"), _r(f"outlet/{rng.randrange(plan.outlets)}")
        yield d, CREATED, _typed(START + timedelta(days=rng.randrange(4000)), "date")


def _actors(plan: _Plan, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    for i in range(plan.states):
        yield _r(f"state/{i}"), A, _c("State")
        yield _r(f"state/{i}"), LABEL, _lit(f"State {ADJ[i % len(ADJ)]} {i}", "en")
    for i in range(plan.coalitions):
        yield _r(f"coalition/{i}"), A, _c("Coalition")
        yield _r(f"coalition/{i}"), LABEL, _lit(f"{ADJ[i % len(ADJ)]} Axis {i}", "en")
    state_root = bytearray(plan.actors)  # 1 if the actor's tree is a state army
    for i in range(plan.actors):
        a = _r(f"actor/{i}")
        unit = rng.randrange(len(UNIT))
        # The first actors take each noun once, so a label search finds something at any size.
        noun = NOUN[i] if i < len(NOUN) else NOUN[rng.randrange(len(NOUN))]
        name = f"{ADJ[rng.randrange(len(ADJ))]} {noun} {UNIT[unit]}"
        if i < plan.roots:  # a random recursive tree: every later unit hangs under an earlier one
            state_root[i] = i % 2 == 0
            cls = "ArmedForce" if state_root[i] else GROUP_CLASSES[(i // 2) % 2]
        else:
            parent = rng.randrange(i)
            state_root[i] = state_root[parent]
            pool = UNIT_CLASSES if state_root[i] else GROUP_CLASSES
            cls = pool[rng.randrange(len(pool))]
        yield a, A, _c(cls)
        yield a, LABEL, _lit(f"{name} {i}", "en")
        yield a, ALT, _lit("".join(w[0] for w in name.split()) + str(i))
        yield a, ALT, _lit(f"{ARABIC[unit]} {i}", "ar")
        if i >= plan.roots:
            yield a, f"<{ORG}subOrganizationOf>", _r(f"actor/{parent}")
            if rng.random() < 0.25:  # some part-of links carry their own sourced node
                u = _r(f"affiliation/{i}")
                yield u, A, _c("UnitAffiliation")
                yield u, LABEL, _lit(f"actor {i} part of actor {parent}", "en")
                yield u, _c("part"), a
                yield u, _c("whole"), _r(f"actor/{parent}")
                yield from _claim(f"affiliation/{i}", (f"actor {i}", "served under",
                                                       f"actor {parent}"), plan, rng)


def _bounds(rng: random.Random) -> tuple[str, date, date]:
    prec = PRECISIONS[rng.choices(range(3), weights=(6, 3, 1))[0]]
    day = START + timedelta(days=rng.randrange(4000))
    if prec == "DayPrecision":
        return prec, day, day
    if prec == "MonthPrecision":
        nxt = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        return prec, day.replace(day=1), nxt - timedelta(days=1)
    return prec, date(day.year, 1, 1), date(day.year, 12, 31)


def _dated(node: str, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    prec, lo, hi = _bounds(rng)
    # date bounds are xsd:dateTime at the start of the day (OWL 2 datatype map; issue 11)
    yield node, _c("earliestDate"), _typed(f"{lo}T00:00:00", "dateTime")
    yield node, _c("latestDate"), _typed(f"{hi}T00:00:00", "dateTime")
    yield node, _c("datePrecision"), _c(prec)


def _relations(plan: _Plan, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    for i in range(plan.backings):
        backer_n, backed_n = f"state {rng.randrange(plan.states)}", f"actor {plan.roots + i}"
        b, backer, backed = _r(f"backing/{i}"), _named(backer_n), _named(backed_n)
        yield b, A, _c("Backing")
        yield b, LABEL, _lit(f"{backer_n} backs {backed_n}", "en")
        yield b, _c("backer"), backer
        yield b, _c("backedActor"), backed
        yield b, _c("supportKind"), _c(SUPPORT[rng.randrange(len(SUPPORT))])
        yield from _dated(b, rng)
        yield backer, _c("backs"), backed  # the shortcut; backed actors are distinct, so no repeats
        verb = BACKING_VERBS[rng.randrange(len(BACKING_VERBS))]
        yield from _claim(f"backing/{i}", (backer_n, verb, backed_n), plan, rng)
    for i in range(plan.memberships):
        member_n, coalition_n = f"actor {plan.roots + i}", f"coalition {rng.randrange(plan.coalitions)}"
        m, member, coalition = _r(f"membership/{i}"), _named(member_n), _named(coalition_n)
        yield m, A, _c("CampMembership")
        yield m, LABEL, _lit(f"{member_n} in {coalition_n}", "en")
        yield m, f"<{ORG}member>", member
        yield m, f"<{ORG}organization>", coalition
        yield from _dated(m, rng)
        yield member, f"<{ORG}memberOf>", coalition
        yield from _claim(f"membership/{i}", (member_n, "joined", coalition_n), plan, rng)


def _event(i: int, plan: _Plan, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    e = _r(f"event/{i}")
    kind = rng.choices(("Clash", "IntraCoalitionClash", "Strike"), weights=(6, 1, 2))[0]
    place = rng.randrange(plan.places)
    yield e, A, _c(kind)
    yield e, LABEL, _lit(f"{kind} near {PROVINCES[place % 14]} sector {place}, event {i}", "en")
    yield e, _c("place"), _r(f"place/{place}")
    yield from _dated(e, rng)
    yield e, _c("eventStatus"), _c("Occurred")
    yield e, _c("weaponCategory"), _c(WEAPONS[rng.randrange(len(WEAPONS))])
    if rng.random() < 0.8:  # the rest: "fighters on both sides killed", no number
        best = rng.randrange(0, 40)
        yield e, _c("fatalitiesLow"), _typed(max(0, best - rng.randrange(5)), "nonNegativeInteger")
        yield e, _c("fatalitiesBest"), _typed(best, "nonNegativeInteger")
        yield e, _c("fatalitiesHigh"), _typed(best + rng.randrange(10), "nonNegativeInteger")
    else:
        yield e, _c("fatalityStatus"), _c(UNQUANTIFIED[rng.randrange(2)])
    sides = rng.sample(range(plan.actors), 3 if rng.random() < 0.2 else 2)
    roles = ("Attacker", "TargetedParty", "TargetedParty") if kind == "Strike" else ("Combatant",) * 3
    for j, actor in enumerate(sides):
        p = _r(f"event/{i}/participation/{j}")
        yield e, _c("hasParticipation"), p
        yield e, _c("participant"), _r(f"actor/{actor}")
        yield p, A, _c("Participation")
        yield p, _c("participationActor"), _r(f"actor/{actor}")
        yield p, _c("participantRole"), _c(roles[j])
        if rng.random() < 0.3:
            yield p, _c("asDescribed"), _lit(f"{ADJ[actor % len(ADJ)]}-backed fighters")
    for j in range(1 + (rng.random() < 0.5)):
        words = (f"actor {sides[0]}", VERBS[rng.randrange(len(VERBS))], f"actor {sides[1]}")
        yield from _claim(f"event/{i}", words, plan, rng, j)


def _claim(about: str, words: tuple[str, str, str], plan: _Plan, rng: random.Random,
           j: int = 0) -> Iterator[tuple[str, str, str]]:
    """A hedged report that supports ``about``, with its quote and its chain of attribution."""
    local = f"{about}/claim/{j}"
    c, q = _r(local), _r(local + "/quote")
    hedge, word, sentence = HEDGES[rng.randrange(len(HEDGES))]
    a, verb, b = words
    exact = sentence.format(a=a, b=b, v=verb, n=rng.randrange(5, 500))
    exact = exact[0].upper() + exact[1:]
    start = rng.randrange(5000)
    outlet = _r(f"outlet/{rng.randrange(plan.outlets)}")
    yield c, A, _c("Report")
    yield c, _c("supports"), _r(about)
    yield c, _c("hasQuote"), q
    yield c, _c("hedge"), _c(hedge)
    yield c, _c("hedgeText"), _lit(word)
    yield c, f"<{PROV}wasAttributedTo>", outlet
    yield q, A, _c("Quote")
    yield q, _c("exact"), _lit(exact)  # xsd:string, the ontology's range
    yield q, _c("startOffset"), _typed(start, "nonNegativeInteger")
    yield q, _c("endOffset"), _typed(start + len(exact), "nonNegativeInteger")
    yield q, _c("inDocument"), _r(f"document/{rng.randrange(plan.documents)}")
    yield from _chain(c, local, plan, rng, simple=j > 0)


def _statement(node: str, agent: str, rng: random.Random, role: str | None = None,
               when: bool = False) -> Iterator[tuple[str, str, str]]:
    """A ckb:SourceStatement by ``agent``; with a qualified attribution when ``role`` is given."""
    yield node, A, _c("SourceStatement")
    yield node, f"<{PROV}wasAttributedTo>", agent
    if role:
        att = _r(node[len(CKBR) + 1:-1] + "/attribution")
        yield node, f"<{PROV}qualifiedAttribution>", att
        yield att, A, f"<{PROV}Attribution>"
        yield att, f"<{PROV}agent>", agent
        yield att, f"<{PROV}hadRole>", _c(role)
    if when:
        yield node, _c("timeText"), _lit(WHEN[rng.randrange(len(WHEN))])


def _chain(c: str, local: str, plan: _Plan, rng: random.Random,
           simple: bool = False) -> Iterator[tuple[str, str, str]]:
    """The claim's chain of sources, shaped like the bundled article's:
    the article's own voice; an outlet's report; a speaker (named, or an anonymous official)
    quoted by or telling an outlet; or that, echoed by a second outlet."""
    shape = rng.choices(("own", "outlet", "speaker", "echo"), weights=(25, 35, 25, 15))[0]
    if shape == "own":
        return
    outlet = _r(f"outlet/{rng.randrange(plan.outlets)}")
    told = _r(local + "/statement/outlet")
    if shape == "outlet" or simple:
        yield from _statement(told, outlet, rng, when=rng.random() < 0.5)
        yield c, f"<{PROV}wasDerivedFrom>", told
        yield c, f"<{PROV}hadPrimarySource>", told
        return
    anonymous = rng.random() < 0.4
    speaker = _r(f"anonymous/{rng.randrange(plan.anonymous)}" if anonymous
                 else f"person/{rng.randrange(plan.people)}")
    said = _r(local + "/statement/speaker")
    yield from _statement(said, speaker, rng, "AnonymousSourceRole" if anonymous else None)
    interview = rng.random() < 0.5
    yield from _statement(told, outlet, rng, "InterviewingOutlet" if interview else None, when=True)
    yield told, f"<{PROV}wasQuotedFrom>", said
    last = told
    if shape == "echo":
        echo = _r(local + "/statement/echo")
        yield from _statement(echo, _r(f"outlet/{rng.randrange(plan.outlets)}"), rng)
        yield echo, f"<{PROV}wasDerivedFrom>", told
        last = echo
    yield c, f"<{PROV}wasDerivedFrom>", last
    yield c, f"<{PROV}hadPrimarySource>", said


def triples(target: int, seed: int = 7) -> Iterator[tuple[str, str, str]]:
    """Yield about ``target`` distinct triples (N-Triples terms), the same ones for one seed."""
    rng = random.Random(seed)
    plan = _Plan(target)
    count = 0
    for part in (_places, _sources, _actors, _relations):
        for t in part(plan, rng):
            count += 1
            yield t
    i = 0
    while count < target or i == 0:  # always at least one event, however small the request
        for t in _event(i, plan, rng):
            count += 1
            yield t
        i += 1


def write(target: int, out: TextIO, seed: int = 7) -> int:
    """Write about ``target`` triples to ``out`` as N-Triples; return how many were written."""
    n = 0
    buf: list[str] = []
    for s, p, o in triples(target, seed):
        buf.append(f"{s} {p} {o} .\n")
        n += 1
        if len(buf) >= 10_000:  # batched writes keep memory flat and the loop fast
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))
    return n


def main(argv: list[str] | None = None) -> int:
    """Command line: write a synthetic N-Triples file."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    ap.add_argument("--triples", type=int, default=100_000, help="about how many triples")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-o", "--output", default="-", help="output .nt file ('-' = stdout)")
    args = ap.parse_args(argv)
    if args.triples < 1:
        ap.error("--triples must be at least 1")
    try:
        if args.output == "-":
            n = write(args.triples, sys.stdout, args.seed)
        else:
            with open(args.output, "w", encoding="utf-8", newline="\n") as fh:
                n = write(args.triples, fh, args.seed)
    except OSError as err:
        print(f"error: {args.output}: {err.strerror or err}", file=sys.stderr)
        return 1
    print(f"wrote {n} triples to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
