"""A small asyncio HTTP/1.1 load generator: N keep-alive clients, fixed request mix, latencies.

Raw sockets, no HTTP library, so the client costs little CPU next to the proxy it measures
(the machine has 2 cores and the client shares them). Every request is counted only when its
whole response has been read; a client that hits an error reconnects and the error is counted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

# The mix: a ping, two lists, and a missing container (404 with a JSON body). No /version
# or /info: dockerd runs runc/containerd for each (about 50 req/s here, 300 ms at p50), so
# they would measure dockerd, not the proxy.
DEFAULT_MIX: tuple[tuple[str, str], ...] = (
    ("GET", "/_ping"),
    ("GET", "/v1.41/containers/json"),
    ("GET", "/v1.41/containers/dockdrift-bench-missing/json"),
    ("GET", "/v1.41/volumes"),
)


@dataclass
class LoadResult:
    completed: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, one per completed request
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """Latency at quantile q (0..1) in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000.0


def _request_bytes(method: str, path: str, host: str) -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
            "User-Agent: dockdrift-bench/1.0\r\nAccept: */*\r\n\r\n").encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one whole response; returns (status, server wants the connection closed)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            close = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, close


async def _client(host: str, port: int, reqs: list[bytes], offset: int, deadline: float,
                  result: LoadResult) -> None:
    i = offset
    writer = None
    while time.perf_counter() < deadline:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            payload = reqs[i % len(reqs)]
            i += 1
            t0 = time.perf_counter()
            writer.write(payload)
            status, close = await _read_response(reader)
            result.latencies.append(time.perf_counter() - t0)
            result.completed += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if close:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            result.errors += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def run_load_async(host: str, port: int, *, duration: float, concurrency: int,
                         mix: tuple[tuple[str, str], ...] = DEFAULT_MIX) -> LoadResult:
    reqs = [_request_bytes(m, p, f"{host}:{port}") for m, p in mix]
    result = LoadResult()
    start = time.perf_counter()
    deadline = start + duration
    await asyncio.gather(*(_client(host, port, reqs, k, deadline, result)
                           for k in range(concurrency)))
    result.elapsed = time.perf_counter() - start
    return result


def run_load(host: str, port: int, *, duration: float, concurrency: int,
             mix: tuple[tuple[str, str], ...] = DEFAULT_MIX) -> LoadResult:
    """Drive `concurrency` keep-alive clients for `duration` seconds; every client finishes
    its in-flight request before returning, so `completed` is exactly what the server saw."""
    return asyncio.run(run_load_async(host, port, duration=duration, concurrency=concurrency,
                                      mix=mix))


if __name__ == "__main__":
    import sys

    h, p = sys.argv[1].rsplit(":", 1)
    r = run_load(h, int(p), duration=float(sys.argv[2]) if len(sys.argv) > 2 else 3.0,
                 concurrency=int(sys.argv[3]) if len(sys.argv) > 3 else 16)
    print(f"{r.completed} req in {r.elapsed:.2f}s = {r.rps:.0f} req/s, errors {r.errors}, "
          f"p50 {r.percentile(0.5):.2f} ms, p99 {r.percentile(0.99):.2f} ms, {r.statuses}")
