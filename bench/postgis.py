"""Statistics computed in PostGIS against the Python engine, and the bytes that travel.

``python -m bench.postgis --url postgresql://user:pw@127.0.0.1:5432/db`` publishes the
generator's city (``python -m bench.generate``) at each size into schema ``bench_<n>``,
then times, in this one process and from a warm start (each measured once before timing):

- **Python**: ``load_layers`` of the GeoPackage and ``district_stats``, the ``stats``
  command without the interpreter's start-up;
- **PostGIS**: ``geo.sqlstats.district_stats`` of the schema;
- **load from PostGIS**: ``load_layers`` of the schema, what computing in Python on the
  bureau database would move.

The client talks to the server through a relay on 127.0.0.1 that counts the bytes each way,
so "bytes" is what crossed the connection. It prints a Markdown table and checks that both
engines' tables agree to 1e-9 relative.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import make_url

from geo import postgis, sqlstats, transfer
from geo.io import load_layers
from geo.stats import district_stats

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


class CountingRelay:
    """A TCP relay on 127.0.0.1 to ``(host, port)`` that counts the bytes in each direction."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.sent = self.received = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, outgoing: bool) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                with self._lock:
                    if outgoing:
                        self.sent += len(data)
                    else:
                        self.received += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def reset(self) -> None:
        with self._lock:
            self.sent = self.received = 0

    def close(self) -> None:
        self._server.close()


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall seconds of ``repeat`` calls after one warm-up call, and the last result."""
    result = fn()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def max_rel_diff(a: pd.DataFrame, b: pd.DataFrame) -> float:
    if not a.index.equals(b.index) or list(a.columns) != list(b.columns):
        return float("inf")
    num = a.columns[2:]
    x, y = a[num].to_numpy(float), b[num].to_numpy(float)
    return float((np.abs(x - y) / np.maximum(np.abs(y), 1e-9)).max())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="postgresql:// URL of a database with PostGIS (a throw-away one)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="road segments")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per engine (median is reported)")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    url = make_url(postgis.parse_url(args.url).url)
    relay = CountingRelay(url.host or "127.0.0.1", url.port or 5432)
    relayed = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    print(
        "| segments | publish s | Python s | PostGIS s | PostGIS / Python | bytes, stats in PostGIS "
        "| bytes, layers loaded from PostGIS | max rel. diff |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        data = OUT / f"city_{n}.gpkg"
        if not data.exists():
            subprocess.run([sys.executable, "-m", "bench.generate", "--roads", str(n), "--out", str(data)], check=True)
        schema = f"bench_{n}"
        start = time.perf_counter()
        transfer.publish(str(data), args.url, schema=schema, replace=True)
        published = time.perf_counter() - start
        db = postgis.parse_url(relayed, schema=schema)
        python_s, ours = timed(lambda data=data: district_stats(load_layers(data)), args.repeat)
        sql_s, theirs = timed(lambda db=db: sqlstats.district_stats(db), args.repeat)
        relay.reset()
        sqlstats.district_stats(db)
        stats_bytes = relay.sent + relay.received
        relay.reset()
        load_layers(f"{relayed}?schema={schema}")
        layer_bytes = relay.sent + relay.received
        diff = max_rel_diff(theirs, ours)
        print(
            f"| {n:,} | {published:.1f} | {python_s:.2f} | {sql_s:.2f} | {sql_s / python_s:.1f} | "
            f"{stats_bytes / 1024:,.0f} KiB | {layer_bytes / 1024 / 1024:,.1f} MiB | {diff:.1e} |",
            flush=True,
        )
    relay.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
