"""The pieces of benchmarks/bench_browser.py that decide what it prints: the relay's byte counts
(checked against a real TCP echo server on loopback), when a click's run is over (Streamlit's own
messages), and the table with its targets."""
from __future__ import annotations

import socket
import threading

from benchmarks.bench_browser import Measured, Row, RunLedger, Sample, format_table, size
from tests.browser.loopback_proxy import LoopbackProxy


def _echo_server() -> tuple[socket.socket, threading.Thread]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data + data)  # twice as much back, so the two counts differ

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return server, t


def test_the_relay_counts_every_byte_each_way():
    server, thread = _echo_server()
    payload = bytes(range(256)) * 1000  # 256,000 bytes, more than one chunk
    try:
        with LoopbackProxy(server.getsockname()[1], source_address="127.0.0.1") as proxy:
            with socket.create_connection(("127.0.0.1", proxy.port)) as client:
                client.sendall(payload)
                client.shutdown(socket.SHUT_WR)
                back = b""
                while data := client.recv(65536):
                    back += data
            assert len(back) == 2 * len(payload)  # each chunk twice
            assert proxy.bytes_up == len(payload)
            assert proxy.bytes_down == 2 * len(payload)
    finally:
        server.close()
        thread.join(5)


def test_the_table_says_which_targets_are_met():
    base = Sample.of([Measured(100, 700, 150, 700), Measured(120, 760, 150, 736), Measured(90, 752, 145, 736)])
    rating = Sample.of([Measured(900, 49_400, 3_448, 48_700)] * 3)
    phone = Sample.of([Measured(130, 5_000, 700, 4_900)] * 3)
    rows = [base.row("one-line page: click", base),
            rating.row("click: rate an element", base, "< 2.5x, < 8 KiB", False),
            phone.row("click: rate in a workshop (phone)", base, "< 2.5x, < 8 KiB", True),
            Row("no target", 12.0, None, None)]
    assert base.median_ms == 100 and base.median_in == 752 and base.median_decoded == 736
    assert rows[1].ratio == 9.0
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["ms", "x", "one-line", "bytes", "in", "+", "out", "ws", "decoded", "in", "target"]
    assert lines[1].split()[:7] == ["one-line", "page:", "click", "100", "1.00", "752", "B"]
    assert lines[2].endswith("< 2.5x, < 8 KiB  NOT MET") and " 9.00 " in lines[2] and "49.4 kB + 3448 B" in lines[2]
    assert lines[3].endswith("met") and not lines[3].endswith("NOT MET") and " 1.30 " in lines[3]
    assert lines[4].split() == ["no", "target", "12", "-", "-", "-", "-"]
    end = lines[0].index("ms") + 2  # the figures are right-aligned under their heading
    assert all(line[end - 1].isdigit() and line[end] == " " for line in lines[1:])
    assert [size(n) for n in (None, 9_999, 10_000, 1_200_000)] == ["-", "9999 B", "10.0 kB", "1.20 MB"]


def _rerun(auto: bool = False, fragment: str = "") -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.is_auto_rerun = auto
    msg.rerun_script.fragment_id = fragment
    return msg.SerializeToString()


def _finished(status: str) -> bytes:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    msg.script_finished = getattr(ForwardMsg, status)
    return msg.SerializeToString()


def test_a_click_is_over_when_its_own_run_has_finished_not_a_timer_fragment_s():
    runs = RunLedger()
    runs.sent(_rerun())  # the page connects: a full run
    runs.received(_finished("FINISHED_SUCCESSFULLY"))
    assert runs.user_done == 1
    runs.sent(_rerun(auto=True, fragment="news"))  # the 3-second fragment, then the click's fragment
    runs.sent(_rerun(fragment="card"))
    runs.received(_finished("FINISHED_FRAGMENT_RUN_SUCCESSFULLY"))  # the timer's
    assert runs.user_done == 1
    runs.received(_finished("FINISHED_FRAGMENT_RUN_SUCCESSFULLY"))  # the click's
    assert runs.user_done == 2
    runs.sent(_rerun(auto=True, fragment="news"))  # a full run stands for a fragment rerun queued before it
    runs.sent(_rerun())
    runs.received(_finished("FINISHED_EARLY_FOR_RERUN"))
    assert runs.user_done == 2
    runs.received(_finished("FINISHED_SUCCESSFULLY"))
    assert runs.user_done == 3 and runs.pending == []
    runs.sent("a text frame")
    runs.received("a text frame")
    assert runs.user_done == 3
