"""Instructions per exchange of the recorder's whole path, counted by valgrind (callgrind).

Instruction counts do not depend on what else the machine runs, so two versions of the code
can be compared on a shared, loaded machine where throughput figures are noise. The recorder's
hooks are fed with mitmproxy tflows (as in benchmarks/hooks.py), the writer thread's INSERTs
included (it shares the GIL: its instructions are the proxy's too). Only the measured region
counts: callgrind's client requests (a 2-function C helper compiled with gcc at first use)
zero the counters after the flows are built and the caches warm, and dump them after
`writer.flush()`.

    python benchmarks/instructions.py                  # every workload, a table
    python benchmarks/instructions.py small stream --exchanges 2000 --json
    DOCKDRIFT_BENCH_BASE_TREE=/tmp/base python benchmarks/instructions.py --tree base

Workloads:
  small   the hooks.py mix (_ping, lists, a 404 with its error body, inspects), one chunk each
  stream  POST /build answering 1 MB of JSON messages in 4 KB chunks, one error at the end
  tiny    POST /images/create answering 64 KB of progress messages, one message per chunk
          (a daemon that flushes every message: the worst case for per-chunk cost)
  wait    POST /containers/{id}/wait answering {"StatusCode":3,...} and GET /exec/{id}/json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("small", "stream", "tiny", "wait")
_HELPER_C = """#include <valgrind/callgrind.h>
void dd_zero(void) { CALLGRIND_ZERO_STATS; }
void dd_dump(void) { CALLGRIND_DUMP_STATS_AT("dockdrift"); }
"""


def _helper(workdir: Path):
    import ctypes

    src, lib = workdir / "ddcg.c", workdir / "ddcg.so"
    src.write_text(_HELPER_C)
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return ctypes.CDLL(str(lib))


@lru_cache(maxsize=4)
def _message_chunks(kind: str) -> list[bytes]:
    if kind == "stream":
        line = b'{"stream":"Step 2/3 : RUN make -j2 all   ---> Running in 0123456789ab\\n"}\r\n'
        body = line * (1_000_000 // len(line))
        body += (b'{"errorDetail":{"code":1,"message":"The command \'/bin/sh -c make\' returned '
                 b'a non-zero code: 2"},"error":"The command \'/bin/sh -c make\' returned a '
                 b'non-zero code: 2"}\r\n')
        return [body[i:i + 4096] for i in range(0, len(body), 4096)]
    line = (b'{"status":"Downloading","progressDetail":{"current":1048576,"total":2818413},'
            b'"progress":"[=====>       ]  1.049MB/2.818MB","id":"0123456789ab"}\r\n')
    return [line] * (65536 // len(line))


def _flows(kind: str, n: int) -> list:
    from mitmproxy import http
    from mitmproxy.test import tflow, tutils

    sys.path.insert(0, str(ROOT))
    from benchmarks.hooks import _flows as small_flows

    if kind == "small":
        return [(f, [b'{"message":"No such container: dockdrift-missing"}'])
                for f in small_flows(n)]
    out = []
    for i in range(n):
        if kind == "wait":
            exec_json = i % 2
            path = b"/v1.41/exec/%064x/json" % i if exec_json else \
                b"/v1.41/containers/%012x/wait?condition=next-exit" % i
            method = "GET" if exec_json else "POST"
            chunks = [b'{"CanRemove":false,"ContainerID":"abc","DetachKeys":"","ExitCode":3,'
                      b'"ID":"x","OpenStderr":true,"OpenStdin":false,"OpenStdout":true,'
                      b'"ProcessConfig":{"arguments":["-c","exit 3"],"entrypoint":"sh",'
                      b'"privileged":false,"tty":false,"user":""},"Running":false,"Pid":123}\n'
                      if exec_json else b'{"Error":null,"StatusCode":3}\n']
        else:
            path = b"/v1.41/build?t=dd-bench" if kind == "stream" else \
                b"/v1.41/images/create?fromImage=busybox&tag=latest"
            method, chunks = "POST", _message_chunks(kind)
        f = tflow.tflow(req=tutils.treq(method=method.encode(), path=path, headers=http.Headers(
            host="127.0.0.1:2376", user_agent="Docker-Client/28.2.2 (linux)")))
        f.response = tutils.tresp(status_code=200, headers=http.Headers(
            server="Docker/20.10.24+dfsg1 (linux)", content_type="application/json"))
        f.response.timestamp_end = f.response.timestamp_start + 0.002
        out.append((f, chunks))
    return out


def _drive(addon, flows: list) -> None:
    for f, chunks in flows:
        addon.requestheaders(f)
        f.request.stream(b"")
        addon.responseheaders(f)
        stream = f.response.stream
        for c in chunks:
            stream(c)
        stream(b"")  # mitmproxy's end of body
        addon.response(f)


def inner(kind: str, n: int, tree: Path) -> None:
    """Run under callgrind: build flows, warm up, then count only the measured region."""
    sys.path.insert(0, str(tree))
    import importlib.util

    from mitmproxy.test import taddons

    helper_dir = tempfile.TemporaryDirectory(prefix="dockdrift-cg-")
    helper = _helper(Path(helper_dir.name))  # loaded: the directory may go at exit
    spec = importlib.util.spec_from_file_location("docker_recorder",
                                                  tree / "addons" / "docker_recorder.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    addon = module.DockerRecorder()
    with tempfile.TemporaryDirectory() as tmp, taddons.context(addon) as tctx:
        tctx.configure(addon, dockdrift_db=str(Path(tmp) / "cg.sqlite"),
                       mode=["reverse:http://127.0.0.1:9"])
        _drive(addon, _flows(kind, 50))
        addon.writer.flush()
        flows = _flows(kind, n)
        helper.dd_zero()
        _drive(addon, flows)
        addon.writer.flush(600)
        helper.dd_dump()
        addon.done()


def count(kind: str, n: int, tree: Path = ROOT) -> dict:
    """Instructions (Ir) of `n` exchanges of one workload, counted by callgrind."""
    with tempfile.TemporaryDirectory(prefix="dockdrift-cg-") as tmp:
        out = Path(tmp) / "cg.out"
        env = {**os.environ, "PYTHONPATH": str(tree)}
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        "--dump-instr=no", sys.executable, __file__, "--inner", kind,
                        "--exchanges", str(n), "--tree-path", str(tree)],
                       check=True, env=env, capture_output=True, timeout=3600)
        dumps = [p for p in Path(tmp).iterdir() if p.name.startswith("cg.out")
                 and "dockdrift" in p.read_text(errors="replace")[:4000]]
        text = dumps[0].read_text(errors="replace")
        m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        assert m, "no totals in callgrind's dump"
    total = int(m.group(1))
    return {"workload": kind, "exchanges": n, "instructions": total,
            "per_exchange": total / n}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workloads", nargs="*", metavar="WORKLOAD", help=f"any of {', '.join(WORKLOADS)}")
    p.add_argument("--exchanges", type=int, default=0, help="per workload (default: sized)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--tree", choices=["here", "base"], default="here",
                   help="base: the checkout in DOCKDRIFT_BENCH_BASE_TREE")
    p.add_argument("--inner", help=argparse.SUPPRESS)
    p.add_argument("--tree-path", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.inner:
        inner(args.inner, args.exchanges, args.tree_path)
        return 0
    if set(args.workloads) - set(WORKLOADS):
        p.error(f"unknown workload(s): use {', '.join(WORKLOADS)}")
    tree = Path(os.environ["DOCKDRIFT_BENCH_BASE_TREE"]) if args.tree == "base" else ROOT
    # per-exchange counts do not depend on n (the region excludes start-up): small n suffice
    sizes = {"small": 300, "stream": 4, "tiny": 4, "wait": 300}
    for k in args.workloads or WORKLOADS:  # one line per workload as it ends (each is slow)
        r = count(k, args.exchanges or sizes[k], tree)
        print(json.dumps(r) if args.json else
              f"{r['workload']:7} {r['per_exchange']:12,.0f} instructions per exchange "
              f"({r['exchanges']} exchanges)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
