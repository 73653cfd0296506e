"""Plain-words search: "veste rouge, jean, sac à dos, vers le nord" -> SearchQuery fields.

A small grammar, not a language model: word tables (below, as data) and a few
rules. `parse_text` returns the filters, the words it did not understand, the
words it refused, and one readback line per filter, so the person can check
and correct what will be searched before it runs.

How the text is read:

- Tokens: lower case, accents and hyphens ignored for matching ("sac-à-dos" =
  "sac a dos"), elisions split ("d'un" = "d'" "un"), commas and full stops end
  a clause. Reports keep the words as written.
- The language (fr/en) is the one with more words only it has; a tie is fr.
  Its table is tried first, so "car" is a coach (bus) in French and a car in
  English, "short" a pair of shorts in French and a height in English.
- Longest phrase first ("sac à dos" before "sac", "après-midi" before "après").
  A camera's name, group or commune (case and accent insensitive) is a place;
  a grammar word wins over a single word of a camera name, a longer match
  over a shorter one; commune before group before camera.
- A colour goes to the garment or vehicle next to it: the one before it in
  French ("veste rouge"), after it in English ("red jacket"), the other side
  if none; colours joined by et/and/ou/or go together. Garment words say the
  body part: upper, lower, or both (robe, tracksuit). A colour with no garment
  or vehicle next to it ("en noir", "wearing red") is taken as the top, or as
  the body colour where the text names vehicles and no person or garment; the
  readback says so. The colour of a hat, a bag or of a word not understood is
  not searchable: it is listed as unknown.
- Garments also set attributes where the word is sure: jean/pantalon/trousers
  -> long_trousers (jean alone -> blue bottom), short -> without long_trousers,
  t-shirt/manches courtes -> without long_sleeves, manteau/coat/parka ->
  coat. Veste/jacket/blouson set the top colour only: a jacket is not always
  what the attribute network calls a coat, and a filter that is too strict
  loses the person sought. Beige -> brown, kaki -> green, bleu marine/navy ->
  blue, bordeaux/maroon -> red (the readback shows the word as written).
- sans/no/without/pas de/ni negate the next garment or carried object of the
  same clause ("sans chapeau" -> without hat).
- Directions are in the image (N = up, right = E), not the compass of the city.
- "vers"/"towards" + a place name is read as the place (the camera that sees
  it); the readback says so.
- Times are wall-clock times of the site's zone, turned into UTC. "à 14h" is
  14:00 ± 15 min; a time range with no day that would start after `now` is the
  day before (a witness speaks of the past); "depuis 14h" is 14:00 until now,
  "depuis 2 heures" the last two hours; "3/12" is day/month. A wall-clock time
  the clocks skip is read with the offset in force before the change (no
  error); one that happens twice, the first time.

What is refused (never turned into a filter, listed in `refused`): words
about the person rather than their clothing: gender, age, origin, skin, face,
hair, body build, and glasses, masks and balaclavas (Vigie never looks at
faces, which are blurred). A colour next to a person word ("un homme noir",
"a black man") is a skin colour and is refused, and so is black/white/brown/
yellow used as a noun ("un noir"). Size words (grand, petit, big, tall...)
are refused next to a person word or on their own; next to an object they are
only not understood. Pronouns (il, elle, he, she) are grammar and are skipped.
Refusing some words does not stop the rest from being parsed: the caller
decides (the CLI refuses to run such a search until it is rephrased).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Sequence

from vigie.clock import TIME_EN, TIME_FR, time_numeric
from vigie.clock import Tok as _Tok
from vigie.clock import time_line as _time_line
from vigie.clock import time_window as _time_window
from vigie.clock import tokens as _tokens
from vigie.search.query import CameraInfo, SearchQuery, parse_query

REFUSAL = {
    "fr": "Vigie décrit les vêtements et les objets portés, jamais la personne elle-même "
    "(ni sexe, ni âge, ni origine, ni visage, ni corpulence).",
    "en": "Vigie describes clothing and carried objects, never the person themselves "
    "(no gender, age, origin, face or build).",
}


def refusal_message(language: str, refused: Sequence[str] = ()) -> str:
    """The refusal, in the text's language, naming the refused words."""
    if not refused:
        return REFUSAL[language]
    if language == "fr":
        return REFUSAL["fr"] + " Mots refusés : " + ", ".join(f"« {w} »" for w in refused) + "."
    return REFUSAL["en"] + " Refused words: " + ", ".join(f'"{w}"' for w in refused) + "."


@dataclass(frozen=True)
class TextQuery:
    """What a plain-words query was read as (see the module docstring)."""

    filters: dict[str, Any]  # SearchQuery fields, ready for parse_query
    unknown: list[str] = field(default_factory=list)  # words not understood, in the order written
    refused: list[str] = field(default_factory=list)  # words about the person, never used
    readback: list[str] = field(default_factory=list)  # one line per filter, in the text's language
    language: str = "fr"

    def query(self) -> SearchQuery:
        return parse_query(self.filters)

    def searchable_filters(self, searchable: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
        """The filters without the attributes a site hides from search (a jean implies long trousers; a
        site may hide them), empty fields dropped; and the attributes left out, for a warning."""
        filters, hidden = dict(self.filters), []
        for name in ("with_attributes", "without_attributes"):
            left_out = [a for a in filters.get(name, []) if a not in searchable]
            if left_out:
                filters[name] = [a for a in filters[name] if a in searchable]
                hidden += left_out
        return {k: v for k, v in filters.items() if v not in (None, [], {})}, hidden


# --- word tables -------------------------------------------------------------------------------------
# Each entry: (kind, values...) -> phrases separated by "|", matched accent- and case-insensitively.
_FILLER = ("filler",)
_FR: list[tuple[tuple, str]] = [
    (("colour", "black"), "noir|noire|noirs|noires"),
    (("colour", "white"), "blanc|blanche|blancs|blanches"),
    (("colour", "grey"), "gris|grise|grises"),
    (("colour", "red"), "rouge|rouges"),
    (("colour", "orange"), "orange|oranges|orangé|orangée"),
    (("colour", "yellow"), "jaune|jaunes"),
    (("colour", "green"), "vert|verte|verts|vertes"),
    (("colour", "blue"), "bleu|bleue|bleus|bleues"),
    (("colour", "purple"), "violet|violette|violets|violettes"),
    (("colour", "pink"), "rose|roses"),
    (("colour", "brown"), "marron|marrons|brun|brune|bruns|brunes"),
    (("colour~", "grey"), "anthracite|argenté|argentée|argentés|gris argent|métallisé|métallisée"),
    (("colour~", "red"), "bordeaux"),
    (("colour~", "green"), "kaki"),
    (("colour~", "blue"), "bleu marine|marine|turquoise|bleu ciel"),
    (("colour~", "purple"), "mauve|mauves|pourpre"),
    (("colour~", "pink"), "fuchsia"),
    (("colour~", "brown"), "beige|beiges|camel|chocolat"),
    (("shade",), "clair|claire|clairs|claires|foncé|foncée|foncés|foncées|vif|vive|pâle|fluo|sombre"),
    (
        ("wear", "upper", (), (), None),
        "haut|veste|vestes|blouson|pull|pull over|sweat|sweatshirt|chemise|chemisier"
        "|polo|gilet|maillot|tunique|top|hoodie|sweat à capuche|pull à capuche|veste à capuche|k way|coupe vent",
    ),
    (("wear", "upper", ("coat",), (), None), "manteau|manteaux|doudoune|parka|anorak|imperméable|imper|trench|caban"),
    (
        ("wear", "upper", (), ("long_sleeves",), None),
        "t shirt|tee shirt|tshirt|teeshirt|débardeur|marcel|manches courtes|à manches courtes|sans manches",
    ),
    (("wear", "upper", ("long_sleeves",), (), None), "manches longues|à manches longues"),
    (("wear", "upper", (), (), "blue"), "veste en jean|blouson en jean"),
    (("wear", "lower", ("long_trousers",), (), None), "pantalon|pantalons|jogging|bas de survêtement|legging|treillis"),
    (("wear", "lower", ("long_trousers",), (), "blue"), "jean|jeans"),
    (("wear", "lower", (), ("long_trousers",), None), "short|shorts|bermuda|bermudas"),
    (("wear", "lower", (), (), None), "bas|jupe|jupes"),
    (("wear", "both", (), (), None), "robe|combinaison|survêtement|survet|tenue|ensemble"),
    (("wear", None, ("hat",), (), None), "chapeau|chapeaux|casquette|casquettes|bonnet|bonnets|béret|bob"),
    (("wear", None, ("bag",), (), None), "sac|sacs|sac à main|sacoche|sac de sport|sac bandoulière|cabas|pochette"),
    (("wear", None, ("backpack",), (), None), "sac à dos|sacs à dos|cartable"),
    (
        ("person",),
        "personne|personnes|quelqu'un|quelqu'une|individu|individus|piéton|piétons|piétonne"
        "|passant|passants|passante|gens|suspect|suspecte|silhouette",
    ),
    (("vehicle", ("car",), None), "voiture|voitures|auto|automobile|berline|citadine|taxi"),
    (("vehicle", ("car", "truck", "bus", "motorcycle"), None), "véhicule|véhicules"),
    (("vehicle", ("car",), "van"), "camionnette|camionnettes|fourgon|fourgons|fourgonnette|utilitaire|van"),
    (("vehicle", ("bus",), None), "bus|autobus|car|autocar|navette"),
    (("vehicle", ("truck",), None), "camion|camions|poids lourd|poids lourds|semi remorque"),
    (("vehicle", ("bicycle",), None), "vélo|vélos|bicyclette|cycliste|cyclistes|vtt"),
    (("vehicle", ("motorcycle",), None), "moto|motos|motocyclette|scooter|scooters|motard"),
    (("dir", "N"), "nord|vers le haut"),
    (("dir", "S"), "sud|vers le bas"),
    (("dir", "E"), "l'est|direction est|droite"),
    (("dir", "W"), "ouest|gauche"),
    (("dir", "NE"), "nord est"),
    (("dir", "NW"), "nord ouest"),
    (("dir", "SE"), "sud est"),
    (("dir", "SW"), "sud ouest"),
    (("towards",), "vers|en direction de|en direction du|en direction des|direction|se dirigeant vers|allant vers"),
    (("neg",), "sans|pas de|pas d'|ni|aucun|aucune|sans aucun"),
    (("det",), "un|une|des|le|la|les|l'"),
    (("and",), "et|ou"),
    (("at",), "à|au|aux|a"),
    (("from",), "de|d'"),
    (("decouleur",), "de couleur"),
    *TIME_FR,
    (
        ("refuse",),
        "homme|hommes|femme|femmes|garçon|garçons|fille|filles|monsieur|messieurs|madame|mesdames"
        "|mademoiselle|dame|dames|mec|mecs|gars|type|types|nana|nanas|meuf|meufs|masculin|féminin"
        "|jeune homme|jeune femme|jeune fille",
    ),
    (
        ("refuse",),
        "jeune|jeunes|vieux|vieille|vieilles|âgé|âgée|âgés|âgées|enfant|enfants|ado|ados|adolescent"
        "|adolescente|adolescents|gamin|gamine|gamins|bébé|senior|seniors|retraité|retraitée|adulte|adultes"
        "|mineur|mineure|années|vingtaine|trentaine|quarantaine|cinquantaine|soixantaine|personne âgée|personnes âgées",
    ),
    (
        ("refuse",),
        "maghrébin|maghrébine|maghrébins|nord africain|nord africaine|africain|africaine|africains"
        "|asiatique|asiatiques|européen|européenne|européens|arabe|arabes|rebeu|renoi|black|blacks|caucasien"
        "|caucasienne|gitan|gitane|rom|roms|métis|métisse|méditerranéen|méditerranéenne|latino|hispanique"
        "|peau|teint|basané|basanée|bronzé|bronzée|origine|ethnie|ethnique|couleur de peau|de type",
    ),
    (
        ("refuse",),
        "visage|figure|barbe|barbu|moustache|moustachu|bouc|cheveux|cheveu|chevelure|chauve|crâne rasé"
        "|blond|blonde|blonds|blondes|roux|rousse|yeux|tatouage|tatouages|tatoué|tatouée|cicatrice|lunettes"
        "|lunettes de soleil|masque|cagoule|cagoulé|mince|maigre|costaud|corpulent|corpulente|trapu|svelte"
        "|musclé|obèse|enceinte|taille|mesurant|cheveux longs|cheveux courts",
    ),
    (("size",), "grand|grande|grands|grandes|petit|petite|petits|petites|gros|grosse"),
    (
        _FILLER,
        "avec|en|portant|porte|portait|qui|que|qu'|habillé|habillée|habillés|habillées|vêtu|vêtue|vêtus"
        "|il|elle|ils|elles|on|son|sa|ses|leur|leurs|est|était|sont|avait|ayant|se|s'|c'|ce|cet|cette|ces|sur|dans"
        "|près|devant|derrière|côté|passé|passait|marchant|marchait|allant|allait|partant|partait|vu|vue|vus"
        "|aperçu|aperçue|dirigeait|sortant|entrant|traversant|couleur|très|plutôt|genre|style|comme|du|tout|toute",
    ),
]
_EN: list[tuple[tuple, str]] = [
    (("colour", "black"), "black"),
    (("colour", "white"), "white"),
    (("colour", "grey"), "grey|gray"),
    (("colour", "red"), "red"),
    (("colour", "orange"), "orange"),
    (("colour", "yellow"), "yellow"),
    (("colour", "green"), "green"),
    (("colour", "blue"), "blue"),
    (("colour", "purple"), "purple"),
    (("colour", "pink"), "pink"),
    (("colour", "brown"), "brown"),
    (("colour~", "grey"), "silver|charcoal"),
    (("colour~", "red"), "maroon|burgundy"),
    (("colour~", "green"), "khaki|olive"),
    (("colour~", "blue"), "navy|navy blue|turquoise|sky blue"),
    (("colour~", "purple"), "violet|mauve"),
    (("colour~", "brown"), "beige|tan|camel"),
    (("shade",), "light|dark|pale|bright"),
    (
        ("wear", "upper", (), (), None),
        "top|jacket|jackets|blazer|hoodie|hooded top|sweatshirt|sweater|jumper"
        "|pullover|fleece|cardigan|shirt|blouse|polo|polo shirt|vest|gilet|jersey|tracksuit top|windbreaker|bomber",
    ),
    (
        ("wear", "upper", ("coat",), (), None),
        "coat|overcoat|raincoat|parka|anorak|puffer|puffer jacket|trench coat|duffel coat|down jacket",
    ),
    (
        ("wear", "upper", (), ("long_sleeves",), None),
        "t shirt|tee shirt|tshirt|tee|tank top|singlet|short sleeves|short sleeved|short sleeve|sleeveless",
    ),
    (("wear", "upper", ("long_sleeves",), (), None), "long sleeves|long sleeved|long sleeve"),
    (("wear", "upper", (), (), "blue"), "denim jacket"),
    (
        ("wear", "lower", ("long_trousers",), (), None),
        "trousers|pants|tracksuit bottoms|joggers|sweatpants|leggings|chinos|cargo pants|slacks|long trousers|long pants",
    ),
    (("wear", "lower", ("long_trousers",), (), "blue"), "jeans|denims|denim"),
    (("wear", "lower", (), ("long_trousers",), None), "shorts|short trousers|bermuda shorts"),
    (("wear", "lower", (), (), None), "bottoms|skirt|skirts"),
    (("wear", "both", (), (), None), "dress|tracksuit|overalls|jumpsuit|outfit|clothes|uniform"),
    (("wear", None, ("hat",), (), None), "hat|hats|cap|caps|baseball cap|beanie|woolly hat|beret|bucket hat"),
    (
        ("wear", None, ("bag",), (), None),
        "bag|bags|handbag|purse|shoulder bag|tote bag|holdall|sports bag|carrier bag|satchel|briefcase",
    ),
    (("wear", None, ("backpack",), (), None), "backpack|backpacks|rucksack|rucksacks|knapsack|school bag"),
    (("person",), "person|people|someone|somebody|pedestrian|pedestrians|individual|suspect|passer by|passerby"),
    (("vehicle", ("car",), None), "car|cars|saloon|sedan|hatchback|taxi|cab"),
    (("vehicle", ("car", "truck", "bus", "motorcycle"), None), "vehicle|vehicles"),
    (("vehicle", ("car",), "van"), "van|vans|minivan"),
    (("vehicle", ("bus",), None), "bus|buses|coach|minibus"),
    (("vehicle", ("truck",), None), "truck|trucks|lorry|lorries|hgv"),
    (("vehicle", ("bicycle",), None), "bike|bikes|bicycle|bicycles|cyclist|cyclists"),
    (("vehicle", ("motorcycle",), None), "motorbike|motorbikes|motorcycle|motorcycles|scooter|moped|motorcyclist"),
    (("dir", "N"), "north|northbound|northward|northwards|up|upwards"),
    (("dir", "S"), "south|southbound|southward|southwards|down|downwards"),
    (("dir", "E"), "east|eastbound|eastward|eastwards|right"),
    (("dir", "W"), "west|westbound|westward|westwards|left"),
    (("dir", "NE"), "north east|northeast|north eastbound"),
    (("dir", "NW"), "north west|northwest|north westbound"),
    (("dir", "SE"), "south east|southeast|south eastbound"),
    (("dir", "SW"), "south west|southwest|south westbound"),
    (("towards",), "towards|toward|heading|heading to|heading towards|going towards|in the direction of|to the"),
    (("neg",), "no|without|not wearing|not carrying|was not wearing|wasn't wearing|without any|nor"),
    (("det",), "a|an|the"),
    (("and",), "and|or"),
    (("at",), "at|at around|at about"),
    (("from",), "from"),
    (("join",), "to|till|until"),
    *TIME_EN,
    (
        ("refuse",),
        "man|men|woman|women|male|males|female|females|boy|boys|girl|girls|guy|guys|lady|ladies"
        "|gentleman|gentlemen|bloke|lad|lads|dude|gal|sir|madam|mr|mrs|ms|miss|young man|young woman|old man"
        "|old woman|old lady",
    ),
    (
        ("refuse",),
        "young|younger|old|older|elderly|aged|age|child|children|kid|kids|teen|teens|teenager"
        "|teenagers|teenage|adolescent|youth|youths|adult|adults|minor|baby|toddler|senior|pensioner|middle aged"
        "|twenties|thirties|forties|fifties|sixties",
    ),
    (
        ("refuse",),
        "african|asian|european|arab|arabic|caucasian|hispanic|latino|latina|indian|chinese"
        "|middle eastern|north african|mixed race|ethnic|ethnicity|origin|skin|skinned|complexion|tanned",
    ),
    (
        ("refuse",),
        "face|beard|bearded|moustache|mustache|goatee|stubble|hair|haired|bald|balding|blond|blonde"
        "|ginger|redhead|brunette|eyes|tattoo|tattooed|tattoos|scar|glasses|sunglasses|spectacles|mask|balaclava"
        "|fat|thin|skinny|slim|slender|overweight|heavyset|stocky|muscular|chubby|build|height|pregnant|long hair|short hair",
    ),
    (("size",), "tall|short|big|small|large|little|huge"),
    (
        _FILLER,
        "with|in|on|of|wearing|wore|wears|dressed|dressed in|clothed|had|has|having|carrying|carried"
        "|holding|he|she|they|his|her|their|was|is|were|who|that|seen|spotted|walking|going|moving|near|by"
        "|outside|in front of|behind|some|kind of|sort of|like|very|probably|maybe|s|one|all",
    ),
]

_AGE_UNITS = {"ans", "an", "years", "year", "yo"}
_SKIN = {"black", "white", "brown", "yellow"}  # colours that, used as a noun, name a person
_NOUNS = {"wear", "vehicle", "person", "refuse", "unknown"}
_SILENT = {"det", "filler", "at", "from", "and", "join", "around"}  # words with no meaning of their own
_SEPARATORS = re.compile(r"[,;.!?()\n]|\s-\s")


def _table(spec: list[tuple[tuple, str]]) -> dict[tuple[str, ...], tuple]:
    table: dict[tuple[str, ...], tuple] = {}
    for entry, phrases in spec:
        for phrase in phrases.split("|"):
            table.setdefault(tuple(t.key for t in _tokens(phrase)), entry)
    return table


_LEX = {"fr": _table(_FR), "en": _table(_EN)}
_LONGEST = max(len(k) for t in _LEX.values() for k in t)
_ONLY = {
    lang: {w for k in _LEX[lang] for w in k} - {w for k in _LEX[other] for w in k}
    for lang, other in (("fr", "en"), ("en", "fr"))
}
_PLACE_STOP = set(
    "place rue boulevard bd avenue av quai square parvis allee chemin route impasse cours side street road camera cam"
    " de des du la le les l' d' et the of and on".split()
)


# --- places ----------------------------------------------------------------------------------------
def _places(cameras: Sequence[CameraInfo]) -> dict[tuple[str, ...], tuple]:
    """Phrase -> ("cameras", ids) / ("groups", name) / ("communes", name), from the cameras' names."""
    grammar = {k[0] for t in _LEX.values() for k in t if len(k) == 1}
    found: dict[tuple[str, ...], set[str]] = {}

    def significant(key: str) -> bool:
        return key not in _PLACE_STOP and key not in grammar and len(key) >= 3 and key.isalpha()

    for cam in cameras:
        found.setdefault(tuple(t.key for t in _tokens(cam.id) if t.kind != "sep"), set()).add(cam.id)
        words = [t.key for t in _tokens(cam.name) if t.kind != "sep"]
        found.setdefault(tuple(words), set()).add(cam.id)
        for i, first in enumerate(words):
            for j in range(i, min(i + 4, len(words))):
                if significant(first) and significant(words[j]):
                    found.setdefault(tuple(words[i : j + 1]), set()).add(cam.id)
    table: dict[tuple[str, ...], tuple] = {k: ("cameras", tuple(sorted(v))) for k, v in found.items() if k}
    for field_, names in (("groups", {c.group for c in cameras}), ("communes", {c.commune for c in cameras})):
        for name in sorted(names - {""}):
            table[tuple(t.key for t in _tokens(name) if t.kind != "sep")] = (field_, name)
    return table


# --- scanning: tokens -> items ------------------------------------------------------------------------
@dataclass
class _Item:
    kind: str
    value: tuple
    words: str  # as written
    start: int  # where in the text
    end: int
    used: bool = False  # taken by the time pass (or as part of another item)
    colours: list = field(default_factory=list)  # a wear or vehicle item: (colour, note) attached to it
    negated: bool = False


def _numeric(toks: list[_Tok], i: int) -> tuple[int, tuple] | None:
    """A clock time, a duration, a date or an age at toks[i]: (tokens used, item value) or None."""
    keys = [t.key for t in toks[i : i + 3]] + [""] * 3
    if toks[i].kind == "height" or (keys[0] == "aged" and keys[1].isdigit()):
        return (2 if keys[0] == "aged" else 1), ("refuse",)
    if toks[i].kind == "num" and keys[1] in _AGE_UNITS:  # 30 ans, 30 years old
        return (3 if keys[2] == "old" else 2), ("refuse",)
    return time_numeric(toks, i)


def _scan(text: str, toks: list[_Tok], language: str, places: dict) -> list[_Item]:
    other = "en" if language == "fr" else "fr"
    items, i = [], 0
    while i < len(toks):
        if toks[i].kind == "sep":
            n, value = 1, ("sep",)
        elif hit := _numeric(toks, i):
            n, value = hit
        else:
            n, value = 1, ("unknown",)
            for size in range(min(_LONGEST, len(toks) - i), 0, -1):
                key = tuple(t.key for t in toks[i : i + size])
                entry = _LEX[language].get(key) or _LEX[other].get(key)
                if entry:
                    n, value = size, entry
                    break
            for size in range(min(8, len(toks) - i), n if value[0] != "unknown" else 0, -1):
                key = tuple(t.key for t in toks[i : i + size])
                if key in places:
                    n, value = size, ("place", *places[key])
                    break
        start, end = toks[i].start, toks[i + n - 1].end
        items.append(_Item(value[0], value[1:], text[start:end], start, end))
        i += n
    return items


# --- readback ---------------------------------------------------------------------------------------
_WORDS = {
    "fr": {
        "person": "personne", "bicycle": "vélo", "car": "voiture", "motorcycle": "moto", "bus": "bus",
        "truck": "camion", "van": "camionnette", "black": "noir", "white": "blanc", "grey": "gris",
        "red": "rouge", "orange": "orange", "yellow": "jaune", "green": "vert", "blue": "bleu",
        "purple": "violet", "pink": "rose", "brown": "marron", "bag": "sac", "backpack": "sac à dos",
        "hat": "chapeau", "long_sleeves": "manches longues", "long_trousers": "pantalon long", "coat": "manteau",
        "classes": "classe", "vehicle_types": "type de véhicule", "upper": "haut", "lower": "bas",
        "body": "couleur du véhicule", "with_attributes": "avec", "without_attributes": "sans",
        "directions": "direction", "cameras": "caméra", "groups": "groupe", "communes": "commune",
        "or": " ou ", "loose": "aucun vêtement nommé", "N": "le haut", "S": "le bas", "E": "la droite",
        "W": "la gauche", "NE": "le haut à droite", "NW": "le haut à gauche", "SE": "le bas à droite",
        "SW": "le bas à gauche",
    },
    "en": {
        "long_sleeves": "long sleeves", "long_trousers": "long trousers", "classes": "class",
        "vehicle_types": "vehicle type", "upper": "top", "lower": "bottom", "body": "vehicle colour",
        "with_attributes": "with", "without_attributes": "without", "directions": "direction",
        "cameras": "camera", "groups": "group", "communes": "commune", "or": " or ", "loose": "no garment named",
        "N": "top", "S": "bottom", "E": "right", "W": "left", "NE": "top right", "NW": "top left",
        "SE": "bottom right", "SW": "bottom left",
    },
}  # fmt: skip


def _say(lang: str, word: str) -> str:
    return _WORDS[lang].get(word, word)


# --- the parser -------------------------------------------------------------------------------------
def _guess_language(toks: list[_Tok]) -> str:
    fr = sum(t.key in _ONLY["fr"] for t in toks)
    en = sum(t.key in _ONLY["en"] for t in toks)
    return "en" if en > fr else "fr"


def parse_text(text: str, *, now: datetime, zone: tzinfo, cameras: Sequence[CameraInfo]) -> TextQuery:
    """Read a plain-words description (French or English) into SearchQuery fields; see the module docstring.

    now: an aware datetime ("hier", "depuis 2 heures" count from it); zone: the site's time zone, that of
    the times written; cameras: the places the text may name."""
    toks = _tokens(text)
    lang = _guess_language(toks)
    items = _scan(text, toks, lang, _places(cameras))
    window = _time_window(items, now, zone)
    unknown: list[tuple[int, str]] = []  # (item index, words): sorted into the order written at the end
    refused: list[tuple[int, str]] = []
    parts: dict[str, list[tuple[str, str]]] = {"upper": [], "lower": [], "body": []}
    classes: list[str] = []
    vehicle_types: list[str] = []
    with_, without, directions = [], [], []
    places: dict[str, list] = {"cameras": [], "groups": [], "communes": []}
    notes: dict[str, str] = {}
    loose: list[tuple[int, tuple[str, str]]] = []

    def live(j: int) -> _Item | None:
        return items[j] if 0 <= j < len(items) and not items[j].used else None

    def step(j: int, by: int, skip: set[str]) -> int:
        j += by
        while live(j) and items[j].kind in skip:
            j += by
        return j

    def add(values: list, *new) -> None:
        values.extend(v for v in new if v not in values)

    # Colours first: they attach to a noun, which the noun's own turn below then reads.
    j = 0
    while j < len(items):
        it = items[j]
        if it.used or it.kind not in ("colour", "colour~"):
            j += 1
            continue
        group, end = [j], j
        while True:
            nxt = step(end, 1, {"shade", "and"})
            if live(nxt) and items[nxt].kind in ("colour", "colour~"):
                group.append(nxt)
                end = nxt
            else:
                break
        before, after = step(j, -1, {"shade", "decouleur"}), step(end, 1, {"shade"})
        for g in range(before + 1, after):  # the shades, joiners and "de couleur" around the colours
            items[g].used = items[g].used or items[g].kind in ("shade", "and", "decouleur")
        sides = (before, after) if lang == "fr" else (after, before)
        target = next((items[s] for s in sides if live(s) and items[s].kind in _NOUNS), None)
        colours = [(items[g].value[0], items[g].words if items[g].kind == "colour~" else "") for g in group]
        if target is None and live(before) and items[before].kind == "det" and colours[0][0] in _SKIN:
            refused.extend((g, items[g].words) for g in group)  # "un noir": a colour as a noun names a person
        elif target is None:
            loose.extend((g, c) for g, c in zip(group, colours))
        elif target.kind in ("person", "refuse"):
            refused.extend((g, items[g].words) for g in group)
        elif target.kind == "wear" and target.value[0] is None or target.kind == "unknown":
            unknown.extend((g, items[g].words) for g in group)  # a hat's or a bag's colour: not searchable
        else:
            target.colours.extend(colours)
        for g in group:
            items[g].used = True
        j = end + 1

    for j, it in enumerate(items):
        if it.kind == "neg" and not it.used:
            k = step(j, 1, {"det", "filler"})
            if live(k) and items[k].kind == "wear" and items[k].value[1]:
                items[k].negated = True
                it.used = True
    has_vehicle = any(it.kind == "vehicle" for it in items)
    has_person = any(it.kind in ("person", "wear") for it in items)
    for j, it in enumerate(items):
        if it.used:
            continue
        k, v = it.kind, it.value
        if k == "wear":
            part, on, off, implied = v
            if it.negated:
                on, off = (), on
                if it.colours:
                    unknown.append((j, it.words))
            add(with_, *on)
            add(without, *off)
            colours = it.colours or ([(implied, it.words)] if implied else [])
            for side in ("upper", "lower") if part == "both" else (part,) if part else ():
                add(parts[side], *colours)
        elif k == "vehicle":
            add(classes, *v[0])
            if v[1]:
                add(vehicle_types, v[1])
            add(parts["body"], *it.colours)
        elif k == "person":
            add(classes, "person")
        elif k == "refuse":
            refused.append((j, it.words))
        elif k == "size":
            near = [items[s].kind for s in (j - 1, j + 1) if live(s) and items[s].kind in _NOUNS]
            (refused if not near or "person" in near or "refuse" in near else unknown).append((j, it.words))
        elif k == "dir":
            add(directions, v[0])
        elif k == "place":
            field_, value = v
            add(places[field_], *(value if field_ == "cameras" else (value,)))
            t = step(j, -1, {"det", "at", "from"})
            if live(t) and items[t].kind == "towards":
                notes[field_] = text[items[t].start : it.end]
        elif k == "towards":
            t = step(j, 1, {"det", "at", "from"})
            if not (live(t) and items[t].kind in ("dir", "place")):
                unknown.append((j, it.words))
        elif k == "decouleur":
            refused.append((j, it.words))  # "une personne de couleur" (a colour right after is taken above)
        elif k not in _SILENT and k != "sep":
            unknown.append((j, it.words))
    for j, (name, note) in loose:
        side = "body" if has_vehicle and not has_person else "upper"
        add(parts[side], (name, note or "loose"))
    if any(parts[p] for p in ("upper", "lower")) or with_ or without:
        add(classes, "person")

    filters: dict[str, Any] = {"classes": classes, "vehicle_types": vehicle_types}
    filters |= {p: list(dict.fromkeys(c for c, _ in parts[p])) for p in parts}
    filters |= {"with_attributes": with_, "without_attributes": without, "directions": directions, **places}
    readback = []
    names = {c.id: c.name for c in cameras}
    for name, values in filters.items():
        if not values:
            continue
        shown = []
        for value in values:
            if name in parts:
                note = next(n for c, n in parts[name] if c == value)
                note = _say(lang, "loose") if note == "loose" else note
                shown.append(_say(lang, value) + (f" ({note})" if note else ""))
            elif name == "cameras":
                shown.append(f"{value} ({names[value]})")
            elif name == "directions":
                where = (
                    f"vers {_say(lang, value)} de l'image"
                    if lang == "fr"
                    else f"towards the {_say(lang, value)} of the image"
                )
                shown.append(f"{value} ({where})")
            else:
                shown.append(_say(lang, value))
        joiner = ", " if name in ("with_attributes", "without_attributes") else _say(lang, "or")
        line = f"{_say(lang, name)}{' ' if lang == 'fr' else ''}: {joiner.join(shown)}"
        if name in notes:
            line += (" — « {} » pris comme le lieu" if lang == "fr" else ' — "{}" taken as the place').format(
                notes[name]
            )
        readback.append(line)
    filters = {k: v for k, v in filters.items() if v}
    if window:
        filters["start"], filters["end"] = window
        readback.append(_time_line(*window, zone, lang))
    return TextQuery(
        filters=filters,
        unknown=[w for _, w in sorted(unknown)],
        refused=[w for _, w in sorted(refused)],
        readback=readback,
        language=lang,
    )
