"""Plain-words search (vigie.search.text): a table of French and English witness phrasings with the
filters, unknown words and refused words expected, the readback, the time zones, and `vigie search --text`.

The table's rows: (text, filters without start/end, (start, end) as Paris wall-clock times or None,
unknown words, refused words). `now` is fixed: Friday 20 November 2026, 16:00 in Paris (15:00 UTC).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from builders import DEMO_SITE

from vigie.cli import EXIT_USAGE, main
from vigie.search.query import CameraInfo, parse_query
from vigie.search.text import REFUSAL, parse_text, refusal_message

pytestmark = pytest.mark.timeout(60)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
CAMERAS = [
    CameraInfo("nimes-esplanade-01", "Esplanade Charles-de-Gaulle, fountain side", "Nîmes", "Centre"),
    CameraInfo("nimes-arenes-01", "Arènes, boulevard des Arènes", "Nîmes", "Centre"),
    CameraInfo("nimes-maison-carree-01", "Maison Carrée, place de la Comédie", "Nîmes", "Centre"),
    CameraInfo("nimes-gare-01", "Gare de Nîmes, forecourt", "Nîmes", "Gare"),
    CameraInfo("marguerittes-mairie-01", "Marguerittes, place de la mairie", "Marguerittes", "Est"),
]


def parse(text: str, now: datetime = NOW, zone=PARIS):
    return parse_text(text, now=now, zone=zone, cameras=CAMERAS)


def local(t: datetime) -> str:
    return t.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")


# --- the table -----------------------------------------------------------------------------------------
FRENCH = [
    (
        "veste rouge, jean, sac à dos, vers le nord",
        {
            "classes": ["person"],
            "upper": ["red"],
            "lower": ["blue"],
            "with_attributes": ["long_trousers", "backpack"],
            "directions": ["N"],
        },
        None,
        [],
        [],
    ),
    (
        "un homme avec un sac à dos et une casquette, veste rouge, jean, vers les Arènes",
        {
            "classes": ["person"],
            "upper": ["red"],
            "lower": ["blue"],
            "with_attributes": ["backpack", "hat", "long_trousers"],
            "cameras": ["nimes-arenes-01"],
        },
        None,
        [],
        ["homme"],
    ),
    (
        "une camionnette blanche hier soir",
        {"classes": ["car"], "vehicle_types": ["van"], "body": ["white"]},
        ("2026-11-19 18:00", "2026-11-20 00:00"),
        [],
        [],
    ),
    ("un homme noir", {}, None, [], ["homme", "noir"]),
    (
        "entre 14h et 14h30 à l'esplanade",
        {"cameras": ["nimes-esplanade-01"]},
        ("2026-11-20 14:00", "2026-11-20 14:30"),
        [],
        [],
    ),
    (
        "pantalon de couleur noire, t-shirt blanc, sans chapeau",
        {
            "classes": ["person"],
            "upper": ["white"],
            "lower": ["black"],
            "with_attributes": ["long_trousers"],
            "without_attributes": ["long_sleeves", "hat"],
        },
        None,
        [],
        [],
    ),
    ("une personne de couleur", {"classes": ["person"]}, None, [], ["de couleur"]),
    ("depuis 2 heures", {}, ("2026-11-20 14:00", "2026-11-20 16:00"), [], []),
    ("les 30 dernières minutes à la gare", {"groups": ["Gare"]}, ("2026-11-20 15:30", "2026-11-20 16:00"), [], []),
    ("le 3 décembre à 14h", {}, ("2025-12-03 13:45", "2025-12-03 14:15"), [], []),
    ("3/12 vers 14h", {}, ("2025-12-03 13:45", "2025-12-03 14:15"), [], []),
    ("à 14h ± 10 min", {}, ("2026-11-20 13:50", "2026-11-20 14:10"), [], []),
    ("un noir en veste", {}, None, [], ["noir"]),
    ("chaussures blanches, baskets", {}, None, ["chaussures", "blanches", "baskets"], []),
    ("grand sac rouge", {"classes": ["person"], "with_attributes": ["bag"]}, None, ["grand", "rouge"], []),
    ("cette nuit", {}, ("2026-11-19 22:00", "2026-11-20 06:00"), [], []),
    ("avant-hier", {}, ("2026-11-18 00:00", "2026-11-19 00:00"), [], []),
    ("ce matin vers la gauche", {"directions": ["W"]}, ("2026-11-20 06:00", "2026-11-20 12:00"), [], []),
    ("une femme blonde d'une trentaine d'années", {}, None, [], ["femme", "blonde", "trentaine", "années"]),
    ("personne âgée avec une canne", {}, None, ["canne"], ["personne âgée"]),
    (
        "une voiture grise métallisée vers la gare de Nîmes",
        {"classes": ["car"], "body": ["grey"], "cameras": ["nimes-gare-01"]},
        None,
        [],
        [],
    ),
    ("un cycliste en veste jaune fluo", {"classes": ["bicycle", "person"], "upper": ["yellow"]}, None, [], []),
    (
        "jeune de type maghrébin, 20 ans, survêtement noir",
        {"classes": ["person"], "upper": ["black"], "lower": ["black"]},
        None,
        [],
        ["jeune", "de type", "maghrébin", "20 ans"],
    ),
    ("une femme avec des lunettes", {}, None, [], ["femme", "lunettes"]),
    (
        "quelqu'un avec un manteau beige et un bonnet",
        {"classes": ["person"], "upper": ["brown"], "with_attributes": ["coat", "hat"]},
        None,
        [],
        [],
    ),
    (
        "sweat à capuche gris et jogging noir, sans sac",
        {
            "classes": ["person"],
            "upper": ["grey"],
            "lower": ["black"],
            "with_attributes": ["long_trousers"],
            "without_attributes": ["bag"],
        },
        None,
        [],
        [],
    ),
    ("lundi dernier vers 17h", {}, ("2026-11-16 16:45", "2026-11-16 17:15"), [], []),
    ("8h du soir", {}, ("2026-11-19 19:45", "2026-11-19 20:15"), [], []),
    ("un bus vers l'est", {"classes": ["bus"], "directions": ["E"]}, None, [], []),
    ("un camion rouge, un vélo", {"classes": ["truck", "bicycle"], "body": ["red"]}, None, [], []),
    (
        "individu habillé en noir, sac-à-dos, aux Arènes cet après-midi",
        {"classes": ["person"], "upper": ["black"], "with_attributes": ["backpack"], "cameras": ["nimes-arenes-01"]},
        ("2026-11-20 12:00", "2026-11-20 18:00"),
        [],
        [],
    ),
    (
        "pull bleu marine, short beige, sans sac à dos",
        {
            "classes": ["person"],
            "upper": ["blue"],
            "lower": ["brown"],
            "without_attributes": ["long_trousers", "backpack"],
        },
        None,
        [],
        [],
    ),
    (
        "une moto noire vers la droite hier entre 23h et 1h",
        {"classes": ["motorcycle"], "body": ["black"], "directions": ["E"]},
        ("2026-11-19 23:00", "2026-11-20 01:00"),
        [],
        [],
    ),
    (
        "un piéton en manches courtes, pantalon kaki, à Marguerittes",
        {
            "classes": ["person"],
            "lower": ["green"],
            "with_attributes": ["long_trousers"],
            "without_attributes": ["long_sleeves"],
            "communes": ["Marguerittes"],
        },
        None,
        [],
        [],
    ),
    (
        "une robe rose, un sac à main",
        {"classes": ["person"], "upper": ["pink"], "lower": ["pink"], "with_attributes": ["bag"]},
        None,
        [],
        [],
    ),
    (
        "quelqu'un en doudoune bordeaux, centre, aujourd'hui",
        {"classes": ["person"], "upper": ["red"], "with_attributes": ["coat"], "groups": ["Centre"]},
        ("2026-11-20 00:00", "2026-11-21 00:00"),
        [],
        [],
    ),
    (
        "un vieux monsieur barbu avec une casquette",
        {"classes": ["person"], "with_attributes": ["hat"]},
        None,
        [],
        ["vieux", "monsieur", "barbu"],
    ),
    ("un car blanc vers le sud-ouest", {"classes": ["bus"], "body": ["white"], "directions": ["SW"]}, None, [], []),
    (
        "camion ou fourgon blanc, depuis 14h",
        {"classes": ["truck", "car"], "vehicle_types": ["van"], "body": ["white"]},
        ("2026-11-20 14:00", "2026-11-20 16:00"),
        [],
        [],
    ),
    (
        "haut rouge et noir, bas gris, direction nord-est",
        {"classes": ["person"], "upper": ["red", "black"], "lower": ["grey"], "directions": ["NE"]},
        None,
        [],
        [],
    ),
    (
        "un grand homme mince en blouson marron",
        {"classes": ["person"], "upper": ["brown"]},
        None,
        [],
        ["grand", "homme", "mince"],
    ),
    ("une personne noire avec un sac", {"classes": ["person"], "with_attributes": ["bag"]}, None, [], ["noire"]),
    ("un enfant en veste violette", {"classes": ["person"], "upper": ["purple"]}, None, [], ["enfant"]),
    (
        "veste verte à l'esplanade avant 9h",
        {"classes": ["person"], "upper": ["green"], "cameras": ["nimes-esplanade-01"]},
        ("2026-11-20 00:00", "2026-11-20 09:00"),
        [],
        [],
    ),
    (
        "une personne en t-shirt orange, nîmes, hier",
        {"classes": ["person"], "upper": ["orange"], "without_attributes": ["long_sleeves"], "communes": ["Nîmes"]},
        ("2026-11-19 00:00", "2026-11-20 00:00"),
        [],
        [],
    ),
    (
        "polo rose, bermuda, pas de casquette",
        {"classes": ["person"], "upper": ["pink"], "without_attributes": ["long_trousers", "hat"]},
        None,
        [],
        [],
    ),
    (
        "un vélo jaune, il y a 2 heures",
        {"classes": ["bicycle"], "body": ["yellow"]},
        ("2026-11-20 13:45", "2026-11-20 14:15"),
        [],
        [],
    ),
    (
        "chemise blanche, jean, vers la Maison Carrée",
        {
            "classes": ["person"],
            "upper": ["white"],
            "lower": ["blue"],
            "with_attributes": ["long_trousers"],
            "cameras": ["nimes-maison-carree-01"],
        },
        None,
        [],
        [],
    ),
]
ENGLISH = [
    (
        "a man in a red jacket and blue jeans heading north between 2pm and 2:30pm",
        {
            "classes": ["person"],
            "upper": ["red"],
            "lower": ["blue"],
            "with_attributes": ["long_trousers"],
            "directions": ["N"],
        },
        ("2026-11-20 14:00", "2026-11-20 14:30"),
        [],
        ["man"],
    ),
    (
        "a black man with a backpack",
        {"classes": ["person"], "with_attributes": ["backpack"]},
        None,
        [],
        ["black", "man"],
    ),
    (
        "a white van heading left yesterday at 14:00",
        {"classes": ["car"], "vehicle_types": ["van"], "body": ["white"], "directions": ["W"]},
        ("2026-11-19 13:45", "2026-11-19 14:15"),
        [],
        [],
    ),
    ("old red car", {"classes": ["car"], "body": ["red"]}, None, [], ["old"]),
    ("red and white cap", {"classes": ["person"], "with_attributes": ["hat"]}, None, ["red", "white"], []),
    (
        "navy blue hoodie, grey joggers, white trainers",
        {"classes": ["person"], "upper": ["blue"], "lower": ["grey"], "with_attributes": ["long_trousers"]},
        None,
        ["white", "trainers"],
        [],
    ),
    (
        "someone in black at the Maison Carrée around 3pm",
        {"classes": ["person"], "upper": ["black"], "cameras": ["nimes-maison-carree-01"]},
        ("2026-11-20 14:45", "2026-11-20 15:15"),
        [],
        [],
    ),
    ("woman with long hair wearing a dress", {}, None, [], ["woman", "long hair"]),
    ("aged 30, 1m80", {}, None, [], ["aged 30", "1m80"]),
    ("from 9am to 11am on 3 December", {}, ("2025-12-03 09:00", "2025-12-03 11:00"), [], []),
    ("in the last 2 hours", {}, ("2026-11-20 14:00", "2026-11-20 16:00"), [], []),
    ("2 hours ago", {}, ("2026-11-20 13:45", "2026-11-20 14:15"), [], []),
    (
        "someone wearing red, no hat, last night",
        {"classes": ["person"], "upper": ["red"], "without_attributes": ["hat"]},
        ("2026-11-19 22:00", "2026-11-20 06:00"),
        [],
        [],
    ),
    ("since this morning, a man", {}, ("2026-11-20 06:00", "2026-11-20 16:00"), [], ["man"]),
    ("dark blue jacket", {"classes": ["person"], "upper": ["blue"]}, None, [], []),
    ("northbound", {"directions": ["N"]}, None, [], []),
    (
        "pedestrian in a black coat with a backpack, heading south",
        {"classes": ["person"], "upper": ["black"], "with_attributes": ["coat", "backpack"], "directions": ["S"]},
        None,
        [],
        [],
    ),
    (
        "a green bike at the station this afternoon",
        {"classes": ["bicycle"], "body": ["green"]},
        ("2026-11-20 12:00", "2026-11-20 18:00"),
        ["station"],
        [],
    ),
    (
        "a person wearing shorts and a white t-shirt, no bag",
        {"classes": ["person"], "upper": ["white"], "without_attributes": ["long_trousers", "long_sleeves", "bag"]},
        None,
        [],
        [],
    ),
    ("a grey lorry westbound", {"classes": ["truck"], "body": ["grey"], "directions": ["W"]}, None, [], []),
    ("red motorbike going right", {"classes": ["motorcycle"], "body": ["red"], "directions": ["E"]}, None, [], []),
    ("a tall guy, short hair", {}, None, [], ["tall", "guy", "short hair"]),
    ("asian woman with a handbag", {"classes": ["person"], "with_attributes": ["bag"]}, None, [], ["asian", "woman"]),
    ("a teenager in a yellow hoodie", {"classes": ["person"], "upper": ["yellow"]}, None, [], ["teenager"]),
    ("a bearded man wearing glasses", {}, None, [], ["bearded", "man", "glasses"]),
    (
        "white car, black car, on December 3",
        {"classes": ["car"], "body": ["white", "black"]},
        ("2025-12-03 00:00", "2025-12-04 00:00"),
        [],
        [],
    ),
    (
        "someone with a blue rucksack and a beanie",
        {"classes": ["person"], "with_attributes": ["backpack", "hat"]},
        None,
        ["blue"],
        [],
    ),
    (
        "purple top, black trousers, without a backpack",
        {
            "classes": ["person"],
            "upper": ["purple"],
            "lower": ["black"],
            "with_attributes": ["long_trousers"],
            "without_attributes": ["backpack"],
        },
        None,
        [],
        [],
    ),
    (
        "blue coach at the Arenes yesterday evening",
        {"classes": ["bus"], "body": ["blue"], "cameras": ["nimes-arenes-01"]},
        ("2026-11-19 18:00", "2026-11-20 00:00"),
        [],
        [],
    ),
    ("a silver saloon towards Nimes", {"classes": ["car"], "body": ["grey"], "communes": ["Nîmes"]}, None, [], []),
    ("khaki jacket and brown shoes", {"classes": ["person"], "upper": ["green"]}, None, ["brown", "shoes"], []),
    ("a cyclist in a high visibility vest", {"classes": ["bicycle"]}, None, ["high", "visibility"], []),
    (
        "between 23:00 and 01:00, a pink dress",
        {"classes": ["person"], "upper": ["pink"], "lower": ["pink"]},
        ("2026-11-19 23:00", "2026-11-20 01:00"),
        [],
        [],
    ),
    (
        "a person in long sleeves and long trousers before 10am",
        {"classes": ["person"], "with_attributes": ["long_sleeves", "long_trousers"]},
        ("2026-11-20 00:00", "2026-11-20 10:00"),
        [],
        [],
    ),
    (
        "today after 6pm, a grey tracksuit",
        {"classes": ["person"], "upper": ["grey"], "lower": ["grey"]},
        ("2026-11-20 18:00", "2026-11-21 00:00"),
        [],
        [],
    ),
    (
        "a van, in the last 30 minutes",
        {"classes": ["car"], "vehicle_types": ["van"]},
        ("2026-11-20 15:30", "2026-11-20 16:00"),
        [],
        [],
    ),
    ("a kid on a bike", {"classes": ["bicycle"]}, None, [], ["kid"]),
    (
        "black hoodie, jeans, at the station at 9:15pm",
        {"classes": ["person"], "upper": ["black"], "lower": ["blue"], "with_attributes": ["long_trousers"]},
        ("2026-11-19 21:00", "2026-11-19 21:30"),
        ["station"],
        [],
    ),
]


@pytest.mark.parametrize(
    "language, text, filters, when, unknown, refused",
    [("fr", *row) for row in FRENCH] + [("en", *row) for row in ENGLISH],
    ids=[row[0] for row in FRENCH + ENGLISH],
)
def test_phrasings(language, text, filters, when, unknown, refused):
    q = parse(text)
    assert q.language == language
    assert {k: v for k, v in q.filters.items() if k not in ("start", "end")} == filters
    assert ((local(q.filters["start"]), local(q.filters["end"])) if "start" in q.filters else None) == when
    assert q.unknown == unknown
    assert q.refused == refused
    query = parse_query(q.filters)  # every parsed filter set is a valid query
    assert query == q.query()
    assert len(q.readback) == len([k for k in q.filters if k != "end"])  # one line per filter, time as one


def test_the_table_is_big_enough():
    assert len(FRENCH) >= 35 and len(ENGLISH) >= 25 and len(FRENCH) + len(ENGLISH) >= 70
    assert sum(bool(row[4]) for row in FRENCH + ENGLISH) >= 15  # refusals
    assert sum(bool(row[3]) for row in FRENCH + ENGLISH) >= 8  # unknown words


# --- readback --------------------------------------------------------------------------------------------
def test_french_readback():
    q = parse(
        "un homme avec un sac à dos et une casquette, veste rouge, jean, vers les Arènes, hier entre 14h et 14h30"
    )
    assert q.readback == [
        "classe : personne",
        "haut : rouge",
        "bas : bleu (jean)",
        "avec : sac à dos, chapeau, pantalon long",
        "caméra : nimes-arenes-01 (Arènes, boulevard des Arènes) — « vers les Arènes » pris comme le lieu",
        "le 19/11/2026 entre 14:00 et 14:30 (heure de Paris)",
    ]
    assert q.refused == ["homme"]  # the refusal is visible; the rest is still read back


def test_english_readback():
    q = parse("a white van heading left last night, someone in a navy jacket")
    assert q.language == "en"
    assert q.readback == [
        "class: car or person",
        "vehicle type: van",
        "top: blue (navy)",
        "vehicle colour: white",
        "direction: W (towards the left of the image)",
        "from 2026-11-19 22:00 to 2026-11-20 06:00 (Paris time)",
    ]
    assert q.unknown == []


def test_a_colour_with_no_garment_is_said_to_be_taken_as_the_top():
    assert parse("habillé en noir").readback == ["classe : personne", "haut : noir (aucun vêtement nommé)"]
    assert parse("dressed in red").readback == ["class: person", "top: red (no garment named)"]


def test_directions_are_in_the_image():
    assert parse("vers le haut").filters == {"directions": ["N"]}
    assert parse("going down").filters == {"directions": ["S"]}
    assert parse("vers la droite").readback == ["direction : E (vers la droite de l'image)"]


# --- refusals and unknown words --------------------------------------------------------------------------
def test_the_refusal_message_names_the_words_in_the_text_language():
    fr, en = parse("une femme en veste rouge"), parse("a woman in a red jacket")
    assert fr.refused == ["femme"] and en.refused == ["woman"]
    assert refusal_message(fr.language, fr.refused) == REFUSAL["fr"] + " Mots refusés : « femme »."
    assert refusal_message(en.language, en.refused) == REFUSAL["en"] + ' Refused words: "woman".'
    assert "jamais la personne" in REFUSAL["fr"] and "never the person" in REFUSAL["en"]


@pytest.mark.parametrize(
    "text, refused, upper",
    [
        ("un homme noir en veste rouge", ["homme", "noir"], ["red"]),  # after a person word: skin
        ("une veste noire", [], ["black"]),  # after a garment: a colour
        ("un noir, veste blanche", ["noir"], ["white"]),  # a colour used as a noun
        ("en noir", [], ["black"]),  # dressed in black
        ("a white man, black jacket", ["white", "man"], ["black"]),
        ("a man in white", ["man"], ["white"]),
        ("une personne blanche", ["blanche"], []),
    ],
)
def test_a_colour_about_the_person_is_refused_and_about_clothing_is_kept(text, refused, upper):
    q = parse(text)
    assert q.refused == refused
    assert q.filters.get("upper", []) == upper


def test_refused_words_never_become_filters():
    q = parse("femme jeune cheveux noirs, lunettes, barbe, chauve, 1m70, 40 ans, type européen")
    assert q.filters == {}
    assert q.refused == [
        "femme",
        "jeune",
        "cheveux",
        "noirs",
        "lunettes",
        "barbe",
        "chauve",
        "1m70",
        "40 ans",
        "type",
        "européen",
    ]


def test_size_words_are_refused_about_a_person_and_not_understood_about_an_object():
    assert parse("un petit homme").refused == ["petit", "homme"]
    q = parse("un petit sac à dos")
    assert q.refused == [] and q.unknown == ["petit"] and q.filters["with_attributes"] == ["backpack"]


def test_unknown_words_are_listed_in_the_order_written():
    q = parse("veste rouge, chaussures vertes, parapluie, vers le nord, trottinette")
    assert q.unknown == ["chaussures", "vertes", "parapluie", "trottinette"]
    assert q.filters == {"classes": ["person"], "upper": ["red"], "directions": ["N"]}


def test_words_kept_as_written_in_reports():
    q = parse("Un HOMME, Sac-À-Dos, Trottinette")
    assert q.refused == ["HOMME"] and q.unknown == ["Trottinette"]
    assert q.filters["with_attributes"] == ["backpack"]


# --- time zones ------------------------------------------------------------------------------------------
def test_times_are_the_site_zone_wall_clock_stored_in_utc():
    paris, utc = parse("à 14h"), parse("à 14h", zone=timezone.utc)
    assert paris.filters["start"] == datetime(2026, 11, 20, 12, 45, tzinfo=timezone.utc)  # CET, UTC+1
    assert utc.filters["start"] == datetime(2026, 11, 20, 13, 45, tzinfo=timezone.utc)
    assert utc.readback == ["le 20/11/2026 entre 13:45 et 14:15 (UTC)"]
    summer = parse("le 15 juillet à 14h")  # CEST, UTC+2
    assert summer.filters["start"] == datetime(2026, 7, 15, 11, 45, tzinfo=timezone.utc)


def test_yesterday_is_the_site_zone_day():
    late = datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc)  # already 21 November, 00:30, in Paris
    assert local(parse("hier", now=late).filters["start"]) == "2026-11-20 00:00"
    assert parse("hier", now=late, zone=timezone.utc).filters["start"] == datetime(2026, 11, 19, tzinfo=timezone.utc)


def test_the_skipped_hour_of_spring_does_not_crash():
    q = parse("le 29 mars 2026 à 2h30")  # 02:00 -> 03:00 in Paris that night
    assert q.filters["start"] < q.filters["end"]
    assert q.filters["start"] == datetime(2026, 3, 29, 1, 15, tzinfo=timezone.utc)  # read with the winter offset
    span = parse("le 29 mars 2026 entre 1h et 4h").filters
    assert span["end"] - span["start"] == timedelta(hours=2)  # one hour never happened


def test_the_repeated_hour_of_autumn_is_taken_first():
    span = parse("le 25 octobre 2026 entre 2h et 3h").filters
    assert span["start"] == datetime(2026, 10, 25, 0, 0, tzinfo=timezone.utc)  # 02:00 CEST
    assert span["end"] == datetime(2026, 10, 25, 2, 0, tzinfo=timezone.utc)  # 03:00 CET: both 2 o'clocks in


def test_a_time_later_today_with_no_day_is_yesterday():
    assert local(parse("à 18h").filters["start"]) == "2026-11-19 17:45"  # 18:00 has not come yet at 16:00
    assert local(parse("aujourd'hui à 18h").filters["start"]) == "2026-11-20 17:45"  # a day said is kept


def test_relative_times_count_from_now():
    assert parse("depuis 2 heures").filters == {"start": datetime(2026, 11, 20, 13, tzinfo=timezone.utc), "end": NOW}
    assert parse("depuis 14h").filters["start"] == datetime(2026, 11, 20, 13, tzinfo=timezone.utc)  # 14:00 Paris
    assert parse("the last half hour").filters["start"] == datetime(2026, 11, 20, 14, 30, tzinfo=timezone.utc)


# --- vigie search --text -----------------------------------------------------------------------------------
def test_cli_reads_back_then_searches(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    code = main(["search", "--site", str(DEMO_SITE), "--text", "veste rouge, sac à dos, vers le nord, parapluie"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out.startswith("Compris :\n  classe : personne\n  haut : rouge\n")
    assert "tracks match" in out
    assert "mots non compris : parapluie" in err
    assert "non cherchable sur ce site, ignoré : backpack" in err  # the demo site hides it: left out, said


def test_cli_refuses_words_about_the_person(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    code = main(["search", "--text", "a black man in a red jacket"])
    out, err = capsys.readouterr()
    assert code == EXIT_USAGE
    assert "Understood:" in out and "tracks match" not in out  # the search did not run
    assert REFUSAL["en"] in err and '"black", "man"' in err


def test_cli_flags_replace_the_text_fields(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    code = main(["search", "--text", "veste rouge, jean", "--upper", "green", "--json"])
    out, err = capsys.readouterr()
    assert code == 0
    query = json.loads(out)["query"]
    assert query["upper"] == ["green"] and query["lower"] == ["blue"] and query["classes"] == ["person"]
    assert err.startswith("Compris :")  # with --json the readback goes to stderr
