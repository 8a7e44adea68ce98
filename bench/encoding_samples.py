"""Text samples in French, Spanish, German, Portuguese and English, saved in UTF-8, UTF-16, Latin-1 and
cp1252, for measuring how well qa's loader recovers the text (bench/bench_encodings.py).

Each sample is a few sentences drawn (seeded) from hand-written news-like sentences of its language;
its length varies from one sentence to a page, since short files are the hard ones to guess.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

SENTENCES = {
    "fr": [
        "Le maire de Besançon a inauguré la nouvelle médiathèque jeudi après-midi.",
        "Les élèves du collège ont présenté leurs travaux sur l'énergie solaire.",
        "La préfecture a déclenché l'alerte orange en raison des fortes chaleurs.",
        "Près de trois cents bénévoles ont participé au nettoyage des berges de la Saône.",
        "« Nous avons reçu beaucoup de soutien », a déclaré la présidente de l'association.",
        "Le théâtre municipal rouvrira ses portes à Noël après deux années de travaux.",
        "Les agriculteurs craignent une récolte médiocre à cause de la sécheresse.",
        "Un cœur de ville plus vert : c'est l'ambition affichée par l'équipe municipale.",
        "La fête de la musique a attiré des milliers de spectateurs place Granvelle.",
        "Le conseil régional a voté un budget de 12 millions d'euros pour les lycées.",
        "Les pompiers sont intervenus à l'aube pour éteindre un incendie dans un entrepôt.",
        "Une exposition consacrée à Courbet ouvrira en février au musée des Beaux-Arts.",
        "Élus et habitants se sont réunis pour débattre du futur tramway.",
        "Où en est le projet de piscine olympique ? Le chantier a pris du retard.",
    ],
    "es": [
        "El ayuntamiento de Cádiz aprobó ayer el presupuesto para el próximo año.",
        "Los vecinos del barrio protestaron por la subida del precio del alquiler.",
        "¿Cuándo llegará el tren de alta velocidad a Extremadura? Nadie lo sabe.",
        "La selección española ganó el partido con un gol en el último minuto.",
        "Según el informe, la temperatura media aumentó casi dos grados en la región.",
        "El niño fue rescatado por los bomberos tras pasar la noche en la montaña.",
        "¡Qué día tan extraordinario para la ciencia!, exclamó la investigadora.",
        "La compañía anunció que contratará a doscientos trabajadores en Málaga.",
        "El museo del Prado recibió más de tres millones de visitantes este año.",
        "Los agricultores de Almería piden ayudas por la sequía que sufre la provincia.",
        "La alcaldesa inauguró una biblioteca pública en el centro histórico de León.",
        "El acuerdo pesquero con Marruecos será revisado en otoño.",
        "Miles de personas celebraron la Nochebuena en la Plaza Mayor de Salamanca.",
        "El señor Núñez dimitió después de la reunión del consejo de administración.",
    ],
    "de": [
        "Der Bürgermeister eröffnete am Montag die neue Brücke über die Spree.",
        "Die Schüler des Gymnasiums gewannen den Wettbewerb für erneuerbare Energien.",
        "Wegen des Unwetters fielen in Süddeutschland zahlreiche Züge aus.",
        "Die Straßenbahn nach Köln-Mülheim fährt ab Oktober wieder im Zehn-Minuten-Takt.",
        "„Wir sind überwältigt von der Hilfsbereitschaft“, sagte die Vorsitzende des Vereins.",
        "Die Preise für Lebensmittel stiegen im Jahresvergleich um fünf Prozent.",
        "Im Münchner Olympiapark fand ein großes Konzert unter freiem Himmel statt.",
        "Die Bäckerei in der Hauptstraße schließt nach achtzig Jahren ihre Türen.",
        "Der Stadtrat beschloss, die Gebühren für Kindergärten zu senken.",
        "Über tausend Läufer nahmen am Marathon rund um den Bodensee teil.",
        "Die Polizei ermittelt nach einem Einbruch in ein Geschäft für Süßwaren.",
        "Das Museum zeigt Gemälde von Dürer, die noch nie öffentlich ausgestellt wurden.",
        "Ärzte warnen vor der Hitze und empfehlen, viel Wasser zu trinken.",
        "Die Grünen und die Union verhandeln über einen gemeinsamen Haushalt.",
    ],
    "pt": [
        "A prefeitura de São Paulo anunciou a construção de três novos hospitais.",
        "Os pescadores do litoral norte reclamam da diminuição dos cardumes.",
        "O governo português aprovou o orçamento para a educação e a saúde.",
        "A seleção brasileira venceu a partida por dois a um no último minuto.",
        "Milhares de pessoas participaram da manifestação na avenida da Liberdade.",
        "O preço do pão aumentou quase dez por cento em apenas três meses.",
        "A exposição sobre a história da navegação abre em março no museu de Lisboa.",
        "Segundo a polícia, o suspeito foi detido na estação de comboios de Coimbra.",
        "As chuvas intensas provocaram inundações em várias cidades do Nordeste.",
        "O ministro afirmou que a reforma será discutida com os sindicatos.",
        "A escola da aldeia reabriu após a conclusão das obras de manutenção.",
        "Os agricultores pedem ajuda por causa da seca que atinge o Alentejo.",
        "Ninguém sabe ao certo quando a ponte será concluída, disse o engenheiro.",
        "A orquestra tocou obras de Villa-Lobos diante de uma plateia emocionada.",
    ],
    "en": [
        "The council approved the new budget for the city's schools on Tuesday.",
        "Residents of the harbour district complained about the rising rents.",
        "The ferry to Skye left two hours late because of the storm.",
        "More than three hundred volunteers cleaned the river banks on Saturday.",
        "\"We were overwhelmed by the support,\" said the chair of the charity.",
        "The museum will show paintings that have never been on public display.",
        "Farmers fear a poor harvest after the driest summer in forty years.",
        "The new bridge, which cost 12 million pounds, opens to traffic next month.",
        "Police are investigating a break-in at a shop on the high street.",
        "The mayor's café in the old town hall serves crème brûlée on Sundays.",
        "Thousands of runners took part in the marathon around the lake.",
        "The library will reopen in September after two years of repairs.",
        "Doctors warn about the heat and advise people to drink plenty of water.",
        "The train company said the line would reopen on Monday morning.",
    ],
}
# Typographic punctuation that Windows software writes in cp1252 (bytes 0x80-0x9F, not Latin-1).
CP1252_TOUCHES = [("\"", "“", "”"), ("'", "’", "’"), (" - ", " – ", " – ")]
ENCODINGS = ("utf-8", "utf-16", "latin-1", "cp1252")
LENGTHS = (1, 2, 4, 10)  # sentences a sample holds: a one-line note to a short article


@dataclass(frozen=True)
class Sample:
    language: str
    encoding: str
    sentences: int
    text: str

    @property
    def data(self) -> bytes:
        return self.text.encode(self.encoding)


def _typographic(text: str) -> str:
    """Curly quotes and dashes, as a word processor writes them (only cp1252 and Unicode hold them)."""
    out = text
    for plain, left, right in CP1252_TOUCHES:
        parts = out.split(plain)
        out = "".join(p + (left if i % 2 == 0 else right) for i, p in enumerate(parts[:-1])) + parts[-1]
    return out


# What a Latin-1 writer does with characters Latin-1 lacks.
LATIN1_PLAIN = str.maketrans({"œ": "oe", "Œ": "OE", "„": '"', "“": '"', "”": '"', "’": "'", "–": "-", "—": "-", "…": "..."})


def samples(per_cell: int = 3, seed: int = 20) -> Iterator[Sample]:
    """per_cell samples of each length for each language and encoding: 5 x 4 x 4 x per_cell in all."""
    rng = random.Random(seed)
    for language, pool in SENTENCES.items():
        for encoding in ENCODINGS:
            for n in LENGTHS:
                for _ in range(per_cell):
                    text = " ".join(rng.sample(pool, min(n, len(pool))))
                    if n > 4:
                        text = text.replace(". ", ".\n", n // 3)
                    if encoding in ("cp1252", "utf-8", "utf-16") and rng.random() < 0.5:
                        text = _typographic(text)
                    if encoding == "latin-1":
                        text = text.translate(LATIN1_PLAIN)
                    yield Sample(language, encoding, n, text)
