"""Running a fleet: ship captures into one store (`import`), keep years of history as daily
rollups (`rollup`) and bound the raw rows (`prune`). The storage side is db.shipping and
db.rollup (no pandas); these are the commands."""
