"""The fair baseline for the recorder: bare mitmdump that streams every body, as the addon does.

    mitmdump -s benchmarks/stream_only.py --set connection_strategy=lazy --mode reverse:...

`stream_large_bodies=1` would stream too, but only once a body is announced as larger than
1 byte; setting `stream = True` in the two header hooks is exactly what the recorder does.
"""

from mitmproxy import http


class StreamOnly:
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        flow.request.stream = True

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        assert flow.response is not None
        flow.response.stream = True


addons = [StreamOnly()]
