"""The recorder with in-stream parsing switched off (benchmarks only): every response is
counted as before, no message stream is scanned and no wait/exec body is read. Compared with
the full addon by benchmarks/saturation.py ("with and without stream parsing").

    mitmdump -s benchmarks/addon_noscan.py --mode reverse:http://127.0.0.1:2375 ...
"""

import importlib.util
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)
_spec = importlib.util.spec_from_file_location(
    "docker_recorder_noscan", os.path.join(_ROOT, "addons", "docker_recorder.py"))
assert _spec and _spec.loader
_recorder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_recorder)
_recorder.outcome_kind = lambda method, path: None  # never a stream or exit-status route

addons = _recorder.addons
