"""A TCP relay that makes a browser on this machine look like another device to the app.

It listens on 127.0.0.1:<free port> and forwards each connection to the app, but binds its
outgoing socket to a second loopback address (127.0.0.2 by default) before connecting. Linux
routes the whole of 127.0.0.0/8 to `lo`, so that bind needs no set-up, and the app sees the
TCP peer, hence `st.context.ip_address`, as 127.0.0.2: a stand-in for a phone on the workshop
Wi-Fi that never leaves loopback.

Bytes are relayed unchanged in both directions (HTTP and websockets alike; no header is added,
so nothing like X-Forwarded-For reaches the app), and counted (`bytes_up`, `bytes_down`), so a
benchmark can read what crossed the wire. One thread accepts; each connection gets two
pump threads. stop() closes the listener and shuts down every open socket, then joins the
threads, so nothing outlives the `with` block.

    with LoopbackProxy(app_port) as proxy:
        page.goto(proxy.url_for("/"))
"""
from __future__ import annotations

import socket
import threading

_CHUNK = 64 * 1024


class LoopbackProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1", source_address: str = "127.0.0.2",
                 listen_host: str = "127.0.0.1", connect_timeout: float = 5.0) -> None:
        for addr in (target_host, source_address, listen_host):
            if not addr.startswith("127."):
                raise ValueError(f"{addr!r} is not an IPv4 loopback address; this proxy stays on loopback")
        self.target = (target_host, target_port)
        self.source_address = source_address
        self.listen_host = listen_host
        self.connect_timeout = connect_timeout
        self.port: int | None = None
        self.connections = 0  # accepted so far
        self.errors: list[str] = []  # upstream connect failures, for a test to report
        self.bytes_up = 0  # relayed browser -> app so far (TCP payload: HTTP and websocket frames as sent)
        self.bytes_down = 0  # relayed app -> browser so far
        self._listener: socket.socket | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._accept_thread: threading.Thread | None = None

    # -- public -------------------------------------------------------------------------------

    def url_for(self, path: str = "/") -> str:
        if self.port is None:
            raise RuntimeError("proxy not started")
        return f"http://{self.listen_host}:{self.port}/{path.lstrip('/')}"

    def start(self) -> LoopbackProxy:
        if self._listener is not None:
            raise RuntimeError("proxy already started")
        self._check_source_bindable()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((self.listen_host, 0))
        listener.listen(64)
        listener.settimeout(0.1)  # so the accept loop notices stop() promptly
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._accept_thread = self._spawn(self._accept_loop, "loopback-proxy-accept")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        # The accept loop first: once it has returned, no new socket or thread can appear.
        if self._accept_thread is not None:
            self._accept_thread.join(timeout + self.connect_timeout)
        if self._listener is not None:
            _quiet(self._listener.close)
        with self._lock:
            socks = list(self._sockets)
        for s in socks:
            _quiet(s.shutdown, socket.SHUT_RDWR)
        for t in list(self._threads):
            t.join(timeout)
        with self._lock:
            socks = list(self._sockets)
            self._sockets.clear()
        for s in socks:
            _quiet(s.close)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            raise RuntimeError(f"proxy threads still running after stop(): {alive}")

    def __enter__(self) -> LoopbackProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------------

    def _check_source_bindable(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((self.source_address, 0))
            except OSError as e:
                raise RuntimeError(f"cannot bind source address {self.source_address}: {e}") from e

    def _spawn(self, fn, name: str, *args) -> threading.Thread:
        t = threading.Thread(target=fn, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
        t.start()
        return t

    def _track(self, s: socket.socket) -> bool:
        with self._lock:
            if self._stopping.is_set():
                return False
            self._sockets.add(s)
            return True

    def _forget(self, *socks: socket.socket) -> None:
        with self._lock:
            for s in socks:
                self._sockets.discard(s)
        for s in socks:
            _quiet(s.close)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                raise
            self.connections += 1
            client.settimeout(None)
            if not self._track(client):
                _quiet(client.close)
                return
            upstream = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                upstream.bind((self.source_address, 0))
                upstream.settimeout(self.connect_timeout)
                upstream.connect(self.target)
                upstream.settimeout(None)
                if upstream.getsockname()[0] != self.source_address:
                    raise OSError(f"outgoing socket has source {upstream.getsockname()[0]}")
            except OSError as e:
                self.errors.append(f"connect {self.target} from {self.source_address}: {e}")
                _quiet(upstream.close)
                self._forget(client)
                continue
            if not self._track(upstream):
                self._forget(client, upstream)
                return
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = _Pair(self, client, upstream)
            n = self.connections
            self._spawn(pair.pump, f"loopback-proxy-{n}-up", client, upstream)
            self._spawn(pair.pump, f"loopback-proxy-{n}-down", upstream, client)


class _Pair:
    """Two sockets relayed both ways; closed once both directions have finished."""

    def __init__(self, proxy: LoopbackProxy, a: socket.socket, b: socket.socket) -> None:
        self.proxy, self.a, self.b = proxy, a, b
        self._open = 2
        self._lock = threading.Lock()

    def pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(_CHUNK)
                if not data:
                    break
                dst.sendall(data)
                with self.proxy._lock:  # every connection's threads add to the same two counts
                    if src is self.a:
                        self.proxy.bytes_up += len(data)
                    else:
                        self.proxy.bytes_down += len(data)
        except OSError:
            # A reset on one side: tear the other side down too, rather than leaving it half-open.
            _quiet(src.shutdown, socket.SHUT_RDWR)
            _quiet(dst.shutdown, socket.SHUT_RDWR)
        else:
            _quiet(dst.shutdown, socket.SHUT_WR)  # pass the half-close on
        with self._lock:
            self._open -= 1
            done = self._open == 0
        if done:
            self.proxy._forget(self.a, self.b)


def _quiet(fn, *args) -> None:
    try:
        fn(*args)
    except OSError:
        pass
