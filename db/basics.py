"""What a command needs before it opens a store, importable without SQLAlchemy: the schema
version, the default path and the store's error class (`dockdrift --help` and `--version`
stay a bare Python start; db.engine and db.models re-export these)."""

from dockdrift.db.errors import StoreError as StoreError  # re-exported (no SQLAlchemy)

SCHEMA_VERSION = 3
DEFAULT_DB = "dockdrift.sqlite"
