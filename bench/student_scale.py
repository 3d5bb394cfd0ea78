"""The student at 10k, 100k and 1M products: retrieval (exact vs ANN vs pgvector HNSW) and training (full vs sampled
softmax), on generated data; and the sampled-softmax student's quality on amazon_beauty next to the full one's.

    .venv/bin/python bench/student_scale.py retrieval --sizes 10000,100000,1000000 [--pgvector-max 100000]
    .venv/bin/python bench/student_scale.py train --items 1000000 --events 10000000 --steps 60
    .venv/bin/python bench/student_scale.py export --database postgresql://...  --out /tmp/events.parquet
    .venv/bin/python bench/student_scale.py train --items 1000000 --parquet /tmp/events.parquet --steps 60
    .venv/bin/python bench/student_scale.py beauty --seed 0              # full vs sampled softmax, same seed

retrieval: per size, item vectors are generated (hidden 128; clustered like a trained student's: 1 cluster per 200
    items, per-item noise and log-normal norms) and a student with random weights is built around them (its frozen
    item matrix replaced by the generated vectors). Timed per request on ONE thread: the student's whole candidate
    step (StudentSource.candidates, k=200: the user vector's forward pass over a 20-step history, the search, the
    product look-up) with an exact index and with the HNSW index; and the search alone (k=200, what the issue's
    54 ms at 1M measured) for user-like queries (the mean of 3 items of one cluster + noise). Recall@10 of HNSW
    against exact for both kinds of query. HNSW build
    time (2 threads) and the index's memory. pgvector: the same vectors in a `vector(128)` column with an HNSW
    index (vector_ip_ops, same m / ef_construction / ef_search) in the embedded PostgreSQL, queried from one
    connection (start it first: python -m config.embedded start), up to --pgvector-max items (its build at 1M
    takes longer than the few minutes this bench may take on 2 shared cores).
train: a Parquet file of generated sequences (Zipf popularity, geometric lengths, 2-50 steps) streamed by
    ParquetSequences; a bounded number of steps of the default config (batch 256), sampled softmax, in a child
    process so its peak RSS is training's alone; sequences/s and the epoch time they imply. With --full, the full
    softmax too (only sizes where a step fits in a few seconds).
export: a shop's events (PostgreSQL) -> that Parquet file, streamed (see bench_export); `train --parquet FILE`
    then trains on the shop's real sequences instead of generated ones.
beauty: trains the default student twice on amazon_beauty (leave-one-out, early stopping on valid NDCG@10): loss
    "full" and loss "sampled" with the same seed; test N@10 / R@10 through the harness's ranking code.
Every figure is printed with the load average beside it: 2 cores shared by several people.
"""

from __future__ import annotations

import os

# one thread for BLAS/OpenMP unless a step sets more: serving runs one request per thread
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import _student_common as common
import numpy as np
import torch

from dragonrec.recommender.core.stores import ProductStore
from dragonrec.recommender.core.types import Context, HistoryEvent, Product, ProductId
from dragonrec.recommender.evaluation.dataset import Split
from dragonrec.recommender.ml.ann import ItemIndex, RetrievalConfig
from dragonrec.recommender.ml.candidates import StudentSource
from dragonrec.recommender.ml.data import EVENT_VOCAB, ParquetSequences, write_sequences
from dragonrec.recommender.ml.model import StudentConfig, StudentModel
from dragonrec.recommender.ml.student import Student
from dragonrec.recommender.ml.train import TrainResult

HIDDEN = 128
log = logging.getLogger("bench")
T = TypeVar("T")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------------------------ generated data


def item_vectors(n: int, *, seed: int = 0, dim: int = HIDDEN) -> tuple[np.ndarray, np.ndarray]:
    """(n, dim) float32 student-like item vectors and each one's cluster."""
    rng = np.random.default_rng(seed)
    k = max(16, n // 200)
    centers = rng.normal(size=(k, dim)).astype(np.float32)
    cluster = rng.integers(k, size=n)
    x = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, 100_000):  # in blocks: no (n, dim) float64 temporary
        e = min(n, s + 100_000)
        x[s:e] = centers[cluster[s:e]] + rng.standard_normal((e - s, dim), dtype=np.float32) * 0.7
        x[s:e] *= rng.lognormal(0.0, 0.25, size=(e - s, 1)).astype(np.float32) / np.sqrt(dim)
    return x, cluster


def user_like_queries(x: np.ndarray, cluster: np.ndarray, n: int, *, seed: int = 1) -> np.ndarray:
    """A user who bought 3 items of one cluster: their mean (scaled) plus noise."""
    rng = np.random.default_rng(seed)
    order = np.argsort(cluster, kind="stable")
    starts = np.searchsorted(cluster[order], np.arange(cluster.max() + 2))
    out = []
    for _ in range(n):
        c = int(rng.integers(cluster.max() + 1))
        members = order[starts[c] : starts[c + 1]]
        if not len(members):
            members = order[:1]
        out.append(x[rng.choice(members, 3)].mean(0) * 3 + rng.normal(size=(x.shape[1],)).astype(np.float32) * 0.05)
    return np.stack(out).astype(np.float32)


class LazyProducts(ProductStore):
    """Every product exists, is active and in stock: the product look-up (a dict lookup in serving's snapshot)
    without a million Product objects; one shared Product stands for all (the source reads only its flags)."""

    ANY = Product(id=0, title="")

    def get_many(self, ids: Iterable[ProductId]) -> dict[ProductId, Product]:
        return dict.fromkeys(ids, self.ANY)

    def trending(self, *, limit: int, categories: Sequence[str] = ()) -> list[tuple[ProductId, float]]:
        return []

    def complements(self, product_id: ProductId, *, limit: int) -> list[tuple[ProductId, float]]:
        return []

    def category_complements(self, category: str, *, limit: int) -> list[tuple[str, float]]:
        return []


def student_around(vectors: np.ndarray) -> Student:
    """A random-weight student (hidden 128, 2 layers, as the default) whose item vectors are `vectors`. Its text
    table is a zero-width stand-in: only the frozen item matrix is read at serving time."""
    n = len(vectors)
    torch.manual_seed(0)
    cfg = StudentConfig(text_dim=1)
    model = StudentModel(cfg, n_items=n, text_vectors=np.zeros((n, 1), np.float32), n_event_types=len(EVENT_VOCAB))
    student = Student(model, list(range(n)))
    model._frozen_items = torch.cat([torch.zeros(1, vectors.shape[1]), torch.from_numpy(vectors)])
    return student


def percentiles(times_s: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(np.asarray(times_s) * 1000, [50, 95])
    return float(p50), float(p95)


def recall_at_10(found: list[np.ndarray], truth: list[np.ndarray]) -> float:
    hits = [len(set(f[:10].tolist()) & set(t[:10].tolist())) / 10 for f, t in zip(found, truth, strict=True)]
    return float(np.mean(hits))


# ------------------------------------------------------------------------------------------------ retrieval


class Clock:
    """Wall time and this thread's CPU time of each timed call. On a box shared by many jobs the wall time of a
    sub-millisecond call is mostly waiting for a core; the thread's CPU time is what the call itself costs."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        w0, c0 = time.perf_counter(), time.thread_time()
        out = fn(*args, **kwargs)
        self.cpu.append(time.thread_time() - c0)
        self.wall.append(time.perf_counter() - w0)
        return out

    def row(self) -> str:
        """p50 | p95 (wall) | p50 | p95 (thread CPU), ms, after 20 warm-up calls."""
        w50, w95 = percentiles(self.wall[20:])
        c50, c95 = percentiles(self.cpu[20:])
        return f"{w50:.2f} | {w95:.2f} | {c50:.2f} | {c95:.2f}"


def serve(source: StudentSource, histories: list[list[HistoryEvent]]) -> tuple[Clock, list[np.ndarray]]:
    """Each history as one request to the student's candidate source (k=200): its times and what came back."""
    clock = Clock()
    found = []
    for h in histories:
        source.student.forget_user_vectors()  # every request pays its forward pass, as a new shopper's would
        out = clock.time(source.candidates, Context(history=h), k=200)
        found.append(np.array([c.product_id for c in out]))
    return clock, found


def bench_retrieval(args: argparse.Namespace) -> None:
    import faiss

    cfg = RetrievalConfig(
        exact_max_items=0, m=args.m, ef_construction=args.ef_construction, ef_search=args.ef_search, build_threads=2
    )
    print(f"# retrieval: hidden {HIDDEN}, HNSW m={cfg.m} ef_construction={cfg.ef_construction}", end="")
    print(f" ef_search={cfg.ef_search}")
    print(f"# load average at start: {load()}")
    print("| items | what | wall p50 ms | wall p95 ms | CPU p50 ms | CPU p95 ms | recall@10 (model users)", end="")
    print(" | recall@10 (user-like) | build s | index MB | load |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    rng = np.random.default_rng(7)
    for n in args.sizes:
        x, cluster = item_vectors(n)
        queries = user_like_queries(x, cluster, args.queries)
        student = student_around(x)
        source = StudentSource(student=student, products=LazyProducts())
        histories = [
            [HistoryEvent(int(p), "view", float(i)) for i, p in enumerate(rng.integers(n, size=20))]
            for _ in range(args.requests)
        ]
        torch.set_num_threads(1)
        faiss.omp_set_num_threads(1)

        student.retrieval = RetrievalConfig(exact_max_items=n + 1)
        exact_index = student.item_index()
        t_exact, truth = serve(source, histories)
        q_truth = [exact_index.search_exact(q, 10)[0] for q in queries]
        q_clock = Clock()
        for q in queries:
            q_clock.time(exact_index.search, q, 200)
        print(f"| {n:,} | exact: student candidates (k=200) | {t_exact.row()} | 1 | 1 | - | - | {load()} |")
        print(f"| {n:,} | exact: search alone (k=200) | {q_clock.row()} | 1 | 1 | - | - | {load()} |")

        faiss.omp_set_num_threads(2)
        rss0 = rss_mb()
        t0 = time.perf_counter()
        student.retrieval = cfg
        index = student.item_index()
        build = time.perf_counter() - t0
        faiss.omp_set_num_threads(1)
        with tempfile.TemporaryDirectory() as tmp:
            index.save(tmp)
            size_mb = (Path(tmp) / "ann_index.faiss").stat().st_size / 2**20
        t_ann, found = serve(source, histories)
        q_found = []
        q_clock = Clock()
        for q in queries:
            q_found.append(q_clock.time(index.search, q, 200)[0])  # recall@10: its first 10 vs the exact top 10
        r_model = recall_at_10(found, truth)
        r_like = recall_at_10(q_found, q_truth)
        print(
            f"| {n:,} | HNSW: student candidates (k=200) | {t_ann.row()} | {r_model:.3f} | {r_like:.3f} | "
            f"{build:.1f} | {size_mb:.0f} (peak RSS +{rss_mb() - rss0:.0f}) | {load()} |"
        )
        print(f"| {n:,} | HNSW: search alone (k=200) | {q_clock.row()} | - | {r_like:.3f} | - | - | {load()} |")
        if n <= args.pgvector_max:
            bench_pgvector(x, queries, q_truth, cfg)
        sys.stdout.flush()
        del student, source, index, exact_index, x


def bench_pgvector(x: np.ndarray, queries: np.ndarray, truth: list[np.ndarray], cfg: RetrievalConfig) -> None:
    import psycopg
    from pgvector.psycopg import register_vector

    from config.embedded import database_url

    n = len(x)
    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS bench_student_vectors")
        conn.execute(f"CREATE UNLOGGED TABLE bench_student_vectors (id integer PRIMARY KEY, v vector({x.shape[1]}))")
        with conn.cursor().copy("COPY bench_student_vectors (id, v) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["integer", "vector"])
            for i in range(n):
                copy.write_row((i, x[i]))
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")  # 2 workers in all, as faiss's build
        t0 = time.perf_counter()
        conn.execute(
            "CREATE INDEX ON bench_student_vectors USING hnsw (v vector_ip_ops) "
            f"WITH (m = {cfg.m}, ef_construction = {cfg.ef_construction})"
        )
        build = time.perf_counter() - t0
        size_row = conn.execute("SELECT pg_relation_size('bench_student_vectors_v_idx')").fetchone()
        assert size_row is not None  # pg_relation_size answers one row
        size_mb = size_row[0] / 2**20
        conn.execute(f"SET hnsw.ef_search = {cfg.ef_search}")
        found = []
        sql = "SELECT id FROM bench_student_vectors ORDER BY v <#> %s LIMIT 200"
        w_times = []
        for q in queries:
            # the server's CPU time is not this thread's: wall time only
            t0 = time.perf_counter()
            rows = conn.execute(sql, (q,), prepare=True).fetchall()
            w_times.append(time.perf_counter() - t0)
            found.append(np.array([r[0] for r in rows]))
        conn.execute("DROP TABLE bench_student_vectors")
    p50, p95 = percentiles(w_times[20:])
    print(
        f"| {n:,} | pgvector HNSW: search alone (k=200, one connection) | {p50:.2f} | {p95:.2f} | - | - | - | "
        f"{recall_at_10(found, truth):.3f} | {build:.1f} | {size_mb:.0f} | {load()} |"
    )


# ------------------------------------------------------------------------------------------------ training


def generated_sequences(n_items: int, n_events: int, *, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Sequences of ~10 steps (geometric, 2-50) over Zipf-popular items, yielded one at a time until n_events."""
    rng = np.random.default_rng(seed)
    rank_of = rng.permutation(n_items)  # popularity rank -> item
    made = 0
    events = np.array([EVENT_VOCAB.index(e) for e in ("view", "view", "view", "click", "add_to_cart", "purchase")])
    while made < n_events:
        lengths = np.clip(rng.geometric(0.1, size=10_000), 2, 50)
        ranks = (rng.zipf(1.2, size=int(lengths.sum())) - 1) % n_items
        items = rank_of[ranks]
        evs = events[rng.integers(len(events), size=len(items))]
        start = 0
        for length in lengths:
            yield items[start : start + length], evs[start : start + length]
            start += length
            made += int(length)
            if made >= n_events:
                return


def train_child(args: argparse.Namespace) -> None:
    """One bounded training run, in its own process; prints one JSON line."""
    from dragonrec.recommender.ml.train import train_student

    torch.set_num_threads(args.threads)
    data = ParquetSequences(args.parquet)
    rng = np.random.default_rng(0)
    text = rng.standard_normal((args.items, 384), dtype=np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    n_windows = data.n_windows(50)
    batch = 256
    # one epoch = n_windows / batch steps; train `steps` of them (max_epochs=1 on a prefix-sized budget)
    cfg = StudentConfig(
        loss=args.loss,
        max_epochs=1,
        time_budget_s=None,
        num_threads=args.threads,
        ema_epochs=None,
        batch_size=batch,
        sparse_ids=not args.dense_ids,
    )
    started = time.perf_counter()
    result = _bounded_train(train_student, data, args.items, text, cfg, args.steps)
    wall = time.perf_counter() - started
    del text
    print(
        json.dumps(
            {
                "items": args.items,
                "loss": args.loss,
                "steps": result["steps"],
                "sequences": result["sequences"],
                "seconds": round(result["seconds"], 2),
                "sequences_per_s": round(result["sequences"] / result["seconds"], 1),
                "cpu_s": round(result["cpu_seconds"], 2),
                "sequences_per_cpu_s": round(result["sequences"] / result["cpu_seconds"], 1),
                "epoch_windows": n_windows,
                "epoch_s_estimate": round(n_windows / batch * result["seconds"] / result["steps"], 0),
                "wall_s": round(wall, 1),
                "peak_rss_mb": round(rss_mb()),
            }
        )
    )


def _bounded_train(
    train_student: Callable[..., TrainResult],
    data: ParquetSequences,
    n_items: int,
    text: np.ndarray,
    cfg: StudentConfig,
    steps: int,
) -> dict[str, float]:
    """Train for `steps` optimizer steps: stop the epoch's chunk stream once that many batches went through.
    Times steps only (model creation and the first chunk's read are outside, reported in wall_s)."""

    class Bounded(ParquetSequences):
        def __init__(self) -> None:
            self.__dict__.update(data.__dict__)
            self.count = 0
            self.sequences = 0
            self.t0 = 0.0
            self.c0 = 0.0

        def chunks(self, rng: np.random.Generator) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
            for chunk in super().chunks(rng):
                # a chunk of `steps` batches' worth of sequences (windows ~ sequences: they are short)
                need = (steps - self.count) * cfg.batch_size
                if need <= 0:
                    return
                chunk = chunk[:need]
                self.count += -(-len(chunk) // cfg.batch_size)
                self.sequences += len(chunk)
                if not self.t0:
                    self.t0 = time.perf_counter()
                    self.c0 = time.process_time()
                yield chunk

    bounded = Bounded()
    train_student(sequences=bounded, n_items=n_items, item_text_vectors=text, config=cfg, seed=0)
    return {
        "steps": bounded.count,
        "sequences": bounded.sequences,
        "seconds": time.perf_counter() - bounded.t0,
        # this process's CPU time over the same span: the machine's other jobs do not change it
        "cpu_seconds": time.process_time() - bounded.c0,
    }


EXPORT_SQL = """
    COPY (
        SELECT coalesce('u:' || user_id::text, 's:' || session_id), product_id, type
        FROM dragonrec_tracking_event WHERE product_id IS NOT NULL
        ORDER BY 1, "timestamp", id
    ) TO STDOUT (FORMAT csv)
"""


def bench_export(args: argparse.Namespace) -> None:
    """A shop's event table -> the training Parquet file, streamed: PostgreSQL sorts the events by (shopper, time)
    and COPYs them out as CSV, which is read back in blocks (pyarrow's streaming CSV reader) and grouped into
    sequences by data.sequences_from_sorted_rows; write_sequences writes a row group per 20k shoppers. This
    process holds one block and one row group, never the history. Peak RSS printed."""
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from dragonrec.recommender.ml.data import event_index, sequences_from_sorted_rows

    print(f"# export: {args.database} -> {args.out}, load average {load()}")
    t0 = time.perf_counter()
    with psycopg.connect(args.database) as conn, tempfile.TemporaryDirectory(dir=Path(args.out).parent) as tmp:
        product_ids = np.array(
            [r[0] for r in conn.execute("SELECT id FROM dragonrec_catalog_product ORDER BY id")], dtype=np.int64
        )
        conn.execute("SET work_mem = '256MB'")
        csv_path = Path(tmp) / "events.csv"
        with conn.cursor() as cur, cur.copy(EXPORT_SQL) as copy, open(csv_path, "wb") as fh:
            for block in copy:
                fh.write(block)
        t_copy = time.perf_counter() - t0
        print(f"# COPY sorted by (shopper, time): {t_copy:.0f}s, {csv_path.stat().st_size / 2**20:.0f} MB of CSV")
        reader = pacsv.open_csv(
            csv_path,
            read_options=pacsv.ReadOptions(column_names=["shopper", "product", "type"], block_size=32 << 20),
            convert_options=pacsv.ConvertOptions(
                column_types={
                    "shopper": pa.string(),
                    "product": pa.int64(),
                    "type": pa.dictionary(pa.int32(), pa.string()),
                }
            ),
        )

        def blocks() -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
            for batch in reader:
                kinds = batch.column(2)
                codes = np.array([event_index(k) for k in kinds.dictionary.to_pylist()], dtype=np.int64)
                yield (
                    batch.column(0).to_numpy(zero_copy_only=False),
                    np.searchsorted(product_ids, batch.column(1).to_numpy()),
                    codes[kinds.indices.to_numpy()],
                )

        write_sequences(args.out, sequences_from_sorted_rows(blocks()))
    data = ParquetSequences(args.out)
    print(
        f"# {len(data):,} sequences, {int(data.lengths().sum()):,} events over {len(product_ids):,} products "
        f"written in {time.perf_counter() - t0:.0f}s ({Path(args.out).stat().st_size / 2**20:.0f} MB); "
        f"peak RSS {rss_mb():.0f} MB; load average {load()}"
    )


def bench_train(args: argparse.Namespace) -> None:
    source = f"Parquet {args.parquet}" if args.parquet else f"{args.events:,} generated events"
    print(f"# training: {args.items:,} items, {source}, load average {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.parquet or Path(tmp) / "sequences.parquet")
        t0 = time.perf_counter()
        if not args.parquet:
            write_sequences(path, generated_sequences(args.items, args.events))
        print(
            f"# {len(ParquetSequences(path)):,} sequences in Parquet ({time.perf_counter() - t0:.0f}s to write), "
            f"{path.stat().st_size / 2**20:.0f} MB, load average {load()}"
        )
        for loss in args.losses:
            cmd = [
                sys.executable,
                __file__,
                "train-child",
                "--parquet",
                str(path),
                "--items",
                str(args.items),
                "--loss",
                loss,
                "--steps",
                str(args.steps if loss == "sampled" else args.full_steps),
                "--threads",
                str(args.threads),
                *(["--dense-ids"] if args.dense_ids else []),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(out.stderr[-3000:])
                continue
            line = out.stdout.strip().splitlines()[-1]
            print(f"{line}  load {load()}")
            sys.stdout.flush()


# ------------------------------------------------------------------------------------------------ beauty


def bench_beauty(args: argparse.Namespace) -> None:
    from dragonrec.recommender.evaluation.harness import accuracy, make_task, rank_all
    from dragonrec.recommender.ml import StudentRanker

    split = common.load_split("amazon_beauty")
    ds = split.dataset
    vecs = common.text_vectors(ds)
    users = sorted(split.train)
    rows = []
    for loss in args.losses:
        cfg = StudentConfig(loss=loss, num_threads=args.threads, n_negatives=args.negatives)
        if args.max_epochs:
            # a fixed number of epochs for both losses (best of the validations within them): the comparison a
            # crowded box can afford when early stopping on the default protocol would take hours
            cfg.max_epochs, cfg.min_epochs = args.max_epochs, args.max_epochs
        before = load()
        t0 = time.perf_counter()
        student = Student.fit(
            sequences=[split.train[u] for u in users],
            product_ids=[p.id for p in ds.products],
            text_vectors=vecs,
            config=cfg,
            valid=[(split.train[u], split.valid_target[u]) for u in users],
            seed=args.seed,
        )
        wall = time.perf_counter() - t0
        torch.set_num_threads(1)
        ranks, _ = rank_all(StudentRanker(student), make_task(split, "loo"), ds.n_items)
        test = accuracy(ranks)
        row = (
            f"| {loss} | {args.seed} | {test['ndcg@10']:.4f} | {test['recall@10']:.4f} | "
            f"{student.meta['best_valid_ndcg10']:.4f} | {wall:.0f} | {student.meta['best_epoch']} | "
            f"{before} / {load()} |"
        )
        rows.append(row)
        print(row, flush=True)
        if args.ann_recall:
            ann_recall_on(student, split, users)
    print("\n| loss | seed | test N@10 | test R@10 | valid N@10 | train s | best epoch | load before / after |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))


def ann_recall_on(student: Student, split: Split, users: list[str]) -> None:
    """HNSW recall@10 against exact on a trained student's real item and user vectors (12k items: exact is what
    serving uses there; this says what HNSW would give on vectors shaped by training, not by our generator)."""
    import faiss

    faiss.omp_set_num_threads(1)
    index = ItemIndex.build(student.item_vectors(), config=RetrievalConfig(exact_max_items=0))
    found, truth = [], []
    for u in users[:2000]:
        q = student.user_vector(split.train[u])
        found.append(index.search(q, 10)[0])
        truth.append(index.search_exact(q, 10)[0])
    recall = recall_at_10(found, truth)
    print(f"# HNSW recall@10 vs exact on this student's own vectors (2,000 Beauty users): {recall:.3f}")


# ------------------------------------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("retrieval")
    r.add_argument("--sizes", default="10000,100000,1000000", type=lambda s: [int(x) for x in s.split(",")])
    r.add_argument("--requests", type=int, default=300)
    r.add_argument("--queries", type=int, default=500)
    r.add_argument("--m", type=int, default=RetrievalConfig.m)
    r.add_argument("--ef-construction", type=int, default=RetrievalConfig.ef_construction)
    r.add_argument("--ef-search", type=int, default=RetrievalConfig.ef_search)
    r.add_argument("--pgvector-max", type=int, default=100_000, help="largest size also measured in pgvector (0: none)")
    t = sub.add_parser("train")
    t.add_argument("--items", type=int, default=1_000_000)
    t.add_argument("--events", type=int, default=10_000_000)
    t.add_argument("--steps", type=int, default=60)
    t.add_argument("--full-steps", type=int, default=3)
    t.add_argument("--losses", default="sampled", type=lambda s: s.split(","))
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--parquet", default="", help="train on this file (e.g. from `export`) instead of generated data")
    t.add_argument("--dense-ids", action="store_true", help="StudentConfig.sparse_ids=False: dense AdamW on the ids")
    e = sub.add_parser("export")
    e.add_argument("--database", required=True, help="PostgreSQL URL of a shop (its events and products tables)")
    e.add_argument("--out", required=True, help="the Parquet file to write")
    c = sub.add_parser("train-child")
    c.add_argument("--parquet", required=True)
    c.add_argument("--items", type=int, required=True)
    c.add_argument("--loss", required=True)
    c.add_argument("--steps", type=int, required=True)
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--dense-ids", action="store_true")
    b = sub.add_parser("beauty")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--losses", default="full,sampled", type=lambda s: s.split(","))
    b.add_argument("--negatives", type=int, default=StudentConfig.n_negatives)
    b.add_argument("--threads", type=int, default=1)
    b.add_argument("--ann-recall", action="store_true")
    b.add_argument("--max-epochs", type=int, default=0, help="train exactly this many epochs (0: early stopping)")
    args = ap.parse_args()
    logging.basicConfig(
        level=logging.INFO if args.what == "beauty" else logging.WARNING, format="%(asctime)s %(message)s"
    )
    benches = {"retrieval": bench_retrieval, "train": bench_train, "train-child": train_child, "beauty": bench_beauty}
    {**benches, "export": bench_export}[args.what](args)


if __name__ == "__main__":
    main()
