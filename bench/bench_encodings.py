"""How often the text of a file comes back exactly: 240 samples in French, Spanish, German,
Portuguese and English saved in UTF-8, UTF-16, Latin-1 and cp1252 (bench/encoding_samples.py),
read by qa's decoder and by charset-normalizer alone (what qa used before for non-UTF-8 bytes).

    python -m bench.bench_encodings        # prints the tables for docs/benchmarks/formats.md

A few texts in other scripts (Russian, Czech, Greek) show what each does outside Western Europe.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from bench.encoding_samples import ENCODINGS, SENTENCES, samples
from qa.ingest.formats.encoding import decode

OTHERS = [
    ("ru", "cp1251", "Президент России заявил, что переговоры продолжатся в Женеве на следующей неделе."),
    ("ru", "koi8-r", "Президент России заявил, что переговоры продолжатся в Женеве на следующей неделе."),
    ("cs", "cp1250", "Starosta otevřel nový most přes řeku. Příliš žluťoučký kůň úpěl ďábelské ódy."),
    ("cs", "iso8859-2", "Starosta otevřel nový most přes řeku. Příliš žluťoučký kůň úpěl ďábelské ódy."),
    ("el", "cp1253", "Ο πρωθυπουργός ανακοίνωσε νέα μέτρα για την οικονομία της χώρας."),
]


def before(data: bytes) -> str:
    """The decoder qa had: BOMs and UTF-8, else charset-normalizer's best guess."""
    from charset_normalizer import from_bytes

    if data.startswith(b"\xff\xfe"):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        return str(best) if best else ""


def main() -> None:
    right: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    total: Counter[tuple[str, str]] = Counter()
    guessed: Counter[str] = Counter()
    for s in samples():
        total[(s.language, s.encoding)] += 1
        right["qa"][(s.language, s.encoding)] += decode(s.data, "sample") == s.text
        old = before(s.data)
        right["before"][(s.language, s.encoding)] += old == s.text
        if s.encoding in ("latin-1", "cp1252"):
            from charset_normalizer import from_bytes

            best = from_bytes(s.data).best()
            guessed[best.encoding if best else "none"] += 1
    n = sum(total.values())
    print(f"{n} samples: texts recovered exactly, qa (charset-normalizer alone before)\n")
    print("| language | " + " | ".join(ENCODINGS) + " | all |")
    print("|---|" + "---:|" * (len(ENCODINGS) + 1))
    for language in SENTENCES:
        cells = [f"{right['qa'][(lang_enc := (language, e))]}/{total[lang_enc]} ({right['before'][lang_enc]})" for e in ENCODINGS]
        qa_all = sum(right["qa"][(language, e)] for e in ENCODINGS)
        old_all = sum(right["before"][(language, e)] for e in ENCODINGS)
        cases = sum(total[(language, e)] for e in ENCODINGS)
        print(f"| {language} | " + " | ".join(cells) + f" | {qa_all}/{cases} ({old_all}) |")
    qa_n, old_n = sum(right["qa"].values()), sum(right["before"].values())
    print(f"\nall: qa {qa_n}/{n} ({qa_n / n:.1%}), before {old_n}/{n} ({old_n / n:.1%})")
    guesses = ", ".join(f"{k} {v}" for k, v in guessed.most_common())
    print(f"charset-normalizer's guesses for the Latin-1 and cp1252 samples: {guesses}")
    print("\nother scripts (exact: qa / before): " + ", ".join(
        f"{lang} {enc} {decode(t.encode(enc), 's') == t}/{before(t.encode(enc)) == t}" for lang, enc, t in OTHERS
    ))  # fmt: skip


if __name__ == "__main__":
    main()
