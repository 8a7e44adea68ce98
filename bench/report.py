"""Markdown rows for docs/benchmarks/speed.md from run_all's summary."""

from __future__ import annotations

from typing import Any


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def markdown(s: dict[str, Any]) -> str:
    m = s.get("machine", {})
    lines = [
        f"Run {s.get('date', '?')} on {m.get('cpu', '?')} ({m.get('cores', '?')} cores, {', '.join(m.get('features', []))}), "
        f"load average {m.get('load_avg_1m', '?')} at the end; {s['articles']} news articles; command `{s.get('command', '')}`.",
        "",
        "| system | passages | ingest passages/s | load+chunk s | encode s | index s | save s | other s | re-index unchanged s "
        "(encoded) | one file changed s (encoded) | nDCG@10 hybrid / dense / keyword |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in ("qa_fp32", "qa_bf16", "qa_int8"):
        if key not in s:
            continue
        ing, nd = s[key]["ingest"], s[key]["ndcg"]
        st = ing["fresh"]["stages_s"]
        lines.append(
            f"| qa {ing['precision']} (load {ing.get('machine', {}).get('load_avg_1m', '?')} at the end) | "
            f"{ing['fresh']['passages']} | {ing['fresh']['passages_per_s']} | {st['load_chunk']} | "
            f"{st['encode']} | {st['index']} | {st['save']} | {st['other']} | {ing['unchanged']['seconds']} "
            f"({ing['unchanged']['passages_encoded']}) | {ing['one_changed']['seconds']} "
            f"({ing['one_changed']['passages_encoded']}) | "
            f"{nd['hybrid']['ndcg@10']} / {nd['dense']['ndcg@10']} / {nd['keyword']['ndcg@10']} |"
        )
    t = s.get("txtai")
    if t:
        st = t["stages_s"]
        lines.append(
            f"| txtai {t.get('txtai', '')} (fp32, defaults; load {t.get('load_avg_1m', '?')}) | {t['passages']} | "
            f"{t['passages_per_s']} | {st['load_chunk']} | "
            f"{st['encode_index']} (encode+index) | - | {st['save']} | - | - | - | - / {t['ndcg']['ndcg@10']} / - |"
        )
    lines += [
        "",
        "| system | p50 ms | p95 ms | p99 ms | query encode p50 ms | RSS MB | disk bytes/passage (FAISS only) | index |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in ("qa_fp32", "qa_bf16", "qa_int8"):
        if key not in s:
            continue
        q, disk = s[key]["query"], s[key]["ingest"]["disk"]
        for mode in ("hybrid", "dense", "keyword"):
            lat = q["latency_ms"][mode]
            lines.append(
                f"| qa {q['precision']} retrieve() {mode} | {lat['p50']} | {lat['p95']} | {lat['p99']} | "
                f"{q['latency_ms']['encode_query']['p50']} | {q['rss_mb']['VmRSS']} | {disk['bytes_per_passage']} "
                f"({disk['faiss_bytes_per_passage']}) | {q['index_kind']} |"
            )
    if t:
        lat = t["latency_ms"]
        lines.append(
            f"| txtai search (dense, k=10) | {lat['p50']} | {lat['p95']} | {lat['p99']} | - | - | - | {t['faiss_type']} |"
        )
    lines += _ratios(s, t) + _faiss_rows(s)
    return "\n".join(lines) + "\n"


def _ratios(s: dict[str, Any], t: dict[str, Any] | None) -> list[str]:
    lines: list[str] = []
    best = s.get(f"qa_{s.get('default_precision')}")
    if t and best:
        lines += [
            "",
            f"Ratios (qa default {s.get('default_precision')} vs txtai, same run): ingestion "
            f"{_ratio(best['ingest']['fresh']['passages_per_s'], t['passages_per_s'])}; "
            f"query p50 hybrid / txtai {_ratio(best['query']['latency_ms']['hybrid']['p50'], t['latency_ms']['p50'])}.",
        ]
        if "qa_int8" in s:
            rate = s["qa_int8"]["ingest"]["fresh"]["passages_per_s"]
            lines.append(f"qa int8 (opt-in) ingestion vs txtai: {_ratio(rate, t['passages_per_s'])}.")
    return lines


def _faiss_rows(s: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for row in s.get("faiss", []):
        nl, rnd = row["news_like"], row["random"]
        lines.append(
            f"\nFAISS {row['n']:,} vectors: IVF nlist {nl['nlist']} nprobe {nl['nprobe']}, built in {nl['ivf_build_s']} s; "
            f"news-like recall@10 {nl['ivf_recall_at_10']}, p50 {nl['ivf_ms']['p50']} ms (flat {nl['flat_ms']['p50']} ms); "
            f"random p50 {rnd['ivf_ms']['p50']} ms (flat {rnd['flat_ms']['p50']} ms)."
        )
    return lines
