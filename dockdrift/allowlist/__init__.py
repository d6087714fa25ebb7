"""`dockdrift allowlist`: turn what was recorded into a Docker socket allowlist.

core: which (method, route) pairs the capture saw (SQL GROUP BY); render: HAProxy
configuration, socket-proxy flags, JSON (the input of `capture --enforce`), text; cli: the
command. The policy itself (regexes, rule order, the decision) is `db.allowlist`, which the
proxy process imports without pandas.
"""
