import sqlite3


def test_recorded_workload_has_rows(recorded_db):
    con = sqlite3.connect(recorded_db)
    n, routed = \
        con.execute("select count(*), count(route) from exchanges").fetchone()
    assert n > 30 and routed == n
    codes = dict(con.execute("select status_code, count(*) from exchanges group by 1").fetchall())
    assert codes.get(404, 0) >= 4 and codes.get(304, 0) >= 2 and codes.get(101, 0) >= 3
