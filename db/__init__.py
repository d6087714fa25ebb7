"""dockdrift storage: typed models, the engine factory, the route matcher and the writer.

Imported by the mitmproxy process: never import pandas or matplotlib from here.
"""
