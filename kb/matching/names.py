"""Names as sources write them, reduced to comparable tokens: folding, transliteration,
the naming conventions of ACLED and UCDP, and a name's similarity to another.

Everything here is about strings; which entity a name belongs to is decided in scoring.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Articles and joining words that transliterations write, drop or attach at will ("al-Nasr",
# "Jaish al Nasr", "Nasr"): never a reason for two names to differ.
STOPWORDS = frozenset({"al", "el", "ad", "ar", "as", "an", "ash", "at", "az", "the", "of", "and", "de", "la",
                       "le", "ul", "for", "in"})
# Arabic words that name kinds of groups, and English synonyms, to one English token: "Jaish al
# Nasr" is "Al-Nasr Army"; an army and a military are the same kind of thing.
GLOSSARY = {
    "jaish": "military", "jaysh": "military", "jeish": "military", "army": "military",
    "liwa": "brigade", "liwaa": "brigade", "kataib": "brigades", "harakat": "movement", "haraka": "movement",
    "jabhat": "front", "jabha": "front", "hizb": "party", "regime": "government",
    "guards": "guard", "forces": "force", "militias": "militia", "groups": "group",
}
# Nationality adjectives to the country's name, so "Syrian military" and "Military Forces of
# Syria" share their tokens. Only the countries these datasets name in the KB's region and
# the bundled sample; a missing one costs a weaker name score, never a wrong match.
DEMONYMS = {
    "syrian": "syria", "russian": "russia", "iranian": "iran", "israeli": "israel", "lebanese": "lebanon",
    "iraqi": "iraq", "turkish": "turkey", "afghan": "afghanistan", "pakistani": "pakistan",
    "bangladeshi": "bangladesh", "american": "united states", "us": "united states", "usa": "united states",
    "u s": "united states", "jordanian": "jordan", "egyptian": "egypt", "saudi": "saudi arabia",
    "yemeni": "yemen", "kurdish": "kurdistan", "indian": "india", "myanmar": "myanmar", "burmese": "myanmar",
}
# Words that say what kind of group a name is, not which: a name that is only these ("the regime",
# "militia") is inside every name of its kind, which makes it no evidence of being that one.
GENERIC = frozenset({*GLOSSARY.values(), "group", "force", "militia", "military", "government", "party",
                     "front", "movement", "brigade", "guard", "corp", "police", "rebel", "supporter",
                     "civilian", "fighter", "unit", "division", "state", "people", "army", "men", "news"})
COUNTRY_ALIASES = {"united states of america": "united states", "russian federation": "russia",
                   "soviet union": "russia", "turkiye": "turkey", "islamic republic of iran": "iran",
                   "syrian arab republic": "syria", "burma": "myanmar"}
_PERIOD = re.compile(r"\(\s*\d{4}\s*-\s*(?:\d{4})?\s*\)")  # ACLED's "(2000-2024)", "(1979-)"
_PAREN = re.compile(r"\(([^()]*)\)")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_VOWELS = re.compile(r"[aeiouy]")


def fold(text: str) -> str:
    """Lower case, accents and apostrophes gone, every other non-letter a single space."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    plain = re.sub(r"['`\u2019\u2018]", "", plain)
    return _NON_WORD.sub(" ", plain).strip()


def _singular(token: str) -> str:
    return token[:-1] if len(token) > 4 and token.endswith("s") and not token.endswith("ss") else token


def country_key(text: str) -> str:
    """A country name or nationality adjective as one key ("Syrian" -> "syria")."""
    folded = fold(text)
    folded = COUNTRY_ALIASES.get(folded, folded)
    return DEMONYMS.get(folded, folded)


@lru_cache(maxsize=1 << 16)
def tokens(text: str) -> tuple[str, ...]:
    """The comparable words of a name: folded, glossed, nationality as country, no articles."""
    folded = fold(text)
    for phrase, country in (*COUNTRY_ALIASES.items(), ("u s", "united states"), ("armed forces", "military")):
        folded = re.sub(rf"\b{phrase}\b", country, folded)
    out = []
    for word in folded.split():
        if word in STOPWORDS:
            continue
        word = GLOSSARY.get(word, word)
        word = DEMONYMS.get(word, word)
        out.extend(_singular(w) for w in word.split())
    return tuple(out)


def skeleton(token: str) -> str:
    """The consonants after the first letter: Hizbollah, Hezbollah and Hizballah agree."""
    return token[:1] + _VOWELS.sub("", token[1:]).replace("hh", "h")


@lru_cache(maxsize=1 << 18)
def token_similarity(a: str, b: str) -> float:
    """1 for the same token, 0.9 for the same consonants (transliterations), else a close spelling."""
    if a == b:
        return 1.0
    if len(a) >= 4 and len(b) >= 4 and skeleton(a) == skeleton(b):
        return 0.9
    if min(len(a), len(b)) < 4:
        return 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return round(ratio * 0.85, 3) if ratio >= 0.8 else 0.0


def _weight(token: str) -> float:
    return 0.5 if token in GENERIC else 1.0


def similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Dice similarity of two token lists, each token paired with its best unused partner; words
    that only say the kind of group ("government", "forces") weigh half."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    pairs = sorted(((token_similarity(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)),
                   reverse=True)
    used_a, used_b, total = set(), set(), 0.0
    for sim, i, j in pairs:
        if sim and i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            total += sim * (_weight(a[i]) + _weight(b[j])) / 2
    return round(2 * total / (sum(map(_weight, a)) + sum(map(_weight, b))), 3)


def acronym(short: str, name: str) -> bool:
    """True when ``short`` (one word, 2-6 letters) is the initials of ``name``, articles in or out."""
    short = fold(short)
    if not 2 <= len(short) <= 6 or " " in short:
        return False
    words = fold(name).split()
    if len(words) < 2:
        return False
    return short in ("".join(w[0] for w in words), "".join(w[0] for w in words if w not in STOPWORDS))


def word_key(token: str) -> str:
    """What a word is filed under to find candidates: the start of its consonant skeleton."""
    return skeleton(token)[:3]


def initials(name: str) -> set[str]:
    """The keys an acronym and its expansion share: a short one-word name itself, else the
    initials of its words (with and without articles)."""
    words = fold(name).split()
    if len(words) == 1:
        return {words[0]} if 2 <= len(words[0]) <= 6 else set()
    return {"".join(w[0] for w in words), "".join(w[0] for w in words if w not in STOPWORDS)} - {""}


@dataclass(frozen=True)
class Reading:
    """One way to read a source's name: the words to compare, how much to trust them, and what the
    naming convention says about the kind and country of the actor."""

    words: tuple[str, ...]
    weight: float  # 1.0: the name itself or an exact convention; below: a part of it
    kind: str = ""  # "armed", "government", "group" or "" (nothing said)
    country: str = ""  # a country key the convention names
    rule: str = "name"


@lru_cache(maxsize=1 << 16)
def readings(name: str) -> tuple[Reading, ...]:
    """The readings of a name (see _readings), remembered: candidates' names are read again and again."""
    return tuple(_readings(name))


def _readings(name: str) -> list[Reading]:
    """The name as written, and what ACLED's and UCDP's conventions make of it:
    "Military Forces of Syria (2000-2024) Republican Guard" is the Syrian military's Republican
    Guard; "Government of Syria" is Syria's government; "Civilians (Syria)" are civilians in Syria."""
    text = _PERIOD.sub(" ", name)
    out = [Reading(tokens(name), 1.0)]
    short = re.fullmatch(r"([A-Z][A-Za-z0-9&'-]{1,11}): (.+)", name)
    if short:  # ACLED's "NDF: National Defence Forces": the name, and the abbreviation on its own
        out.append(Reading(tokens(short.group(2)), 1.0, rule="name after the abbreviation"))
        out.append(Reading(tokens(short.group(1)), 0.95, rule="abbreviation"))
        text = short.group(2)
    qualifier = ""
    inner = _PAREN.search(text)
    if inner:
        qualifier = country_key(inner.group(1))
        text = _PAREN.sub(" ", text)
    text = " ".join(text.split())
    if text != name:
        out.append(Reading(tokens(text), 1.0, country=qualifier, rule="without period or qualifier"))
    m = re.fullmatch(r"(?i)(military|police|naval|air) forces of (?:the )?(.+)", text)
    if m:
        out = _as_written(out)
        service = "police" if m.group(1).lower() == "police" else "military"
        country, unit = split_country(m.group(2))
        if not unit:
            out.append(Reading((*tokens(country), service), 1.0, "armed", country, "state forces"))
        else:
            words = (*tokens(country), *tokens(unit))
            out.append(Reading(words, 1.0, "armed", country, "unit of state forces"))
            out.append(Reading(tokens(unit), 0.92, "armed", country, "unit name"))
        return out
    g = re.fullmatch(r"(?i)government of (?:the )?(.+)", text)
    if g:
        out = _as_written(out)
        country = country_key(g.group(1))
        out.append(Reading((*tokens(country), "government"), 1.0, "government", country, "government"))
        out.append(Reading(tokens(country), 0.9, "government", country, "state"))
        return out
    c = re.fullmatch(r"(?i)(civilians|protesters|rioters|unidentified armed group|prisoners|refugees)", text)
    if c and qualifier:
        kind = "armed" if "armed" in c.group(1).lower() else "group"
        out.append(Reading(tokens(text), 1.0, kind, qualifier, "group in a country"))
    return out


def _as_written(found: list[Reading]) -> list[Reading]:
    """The name as written counts for less once a convention has read it: "Military Forces of
    Syria Republican Guard" is the Guard more than it is the Syrian military."""
    return [Reading(r.words, 0.9 * r.weight, r.kind, r.country, r.rule) for r in found]


def split_country(text: str) -> tuple[str, str]:
    """Split "Iran Islamic Revolutionary Guard Corps" into a country key and the rest, by the
    country names known here (the longest first); an unknown country is the whole text."""
    folded = fold(text)
    for country in sorted({*DEMONYMS.values(), *COUNTRY_ALIASES}, key=len, reverse=True):
        if folded == country:
            return country_key(country), ""
        if folded.startswith(country + " "):
            words = len(country.split())
            return country_key(country), " ".join(text.split()[words:])
    return country_key(text), ""
