"""requests' way to the daemon: a session whose connections take their sockets from the connector.

requests and urllib3 are extended only where they say to: a urllib3 connection class whose
connect() sets `self.sock` from the connector (as requests-unixsocket's UnixHTTPConnection sets
a unix socket of its own), a pool that makes those connections (ConnectionCls, with the
connector passed among the pool's connection keyword arguments), and the adapter's
get_connection_with_tls_context, which requests documents as the place to choose the pool.
So every scheme (unix, TCP, TLS, ssh) goes one way, with the connector's sockets, its
deadlines and its reading of failures: a connection failure comes out of requests as the
connector's DaemonError, untouched.

requests-unixsocket's own connection class is not used: it opens a plain socket of its own,
from a path it reads back out of the URL, which would bypass the connector (its deadline
sockets, its reading of failures, its handing over of the socket to the pipeline).
"""

import socket
from typing import Any

import requests
import requests.adapters
import urllib3

from inspector import __version__
from inspector.sources.daemon.connector import Connector


class DaemonConnection(urllib3.connection.HTTPConnection):
    """urllib3's HTTP/1.1 over a socket the connector opened (TLS included: the connector's)."""

    def __init__(self, *args: Any, connector: Connector[socket.socket], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connector = connector

    def connect(self) -> None:
        self.sock = self.connector.connect()

    def give_back(self) -> None:
        """Hand the socket, still open, to the connector for the next client; the connection
        connects again if it is used again. Only once an answer is read whole: the connection
        is idle, with nothing unread (an answer that ends the connection has closed it)."""
        sock, self.sock = self.sock, None
        if sock is not None:
            self.connector.park(sock)


class _DaemonPool(urllib3.HTTPConnectionPool):
    ConnectionCls = DaemonConnection


class DaemonAdapter(requests.adapters.HTTPAdapter):
    """Every request of the session through one pool of DaemonConnections."""

    def __init__(self, connector: Connector[socket.socket]) -> None:
        super().__init__(pool_connections=1, pool_maxsize=1)
        # The pool's host appears nowhere: the Host header is the connector's (open_session).
        self.daemon_pool = _DaemonPool("localhost", maxsize=1, connector=connector)

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> urllib3.HTTPConnectionPool:
        return self.daemon_pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """Nothing: TLS is the connector's, with docker's trust rules, not requests' (certifi)."""

    def close(self) -> None:
        self.daemon_pool.close()
        super().close()


def open_session(connector: Connector[socket.socket]) -> requests.Session:
    """A session whose requests to the connector's daemon (its base URL) go through it."""
    session = requests.Session()
    # No proxies, .netrc or CA bundles from the environment: this is a local API socket.
    session.trust_env = False
    session.headers.update(
        {
            "Host": connector.host_header,
            "User-Agent": f"imginspect/{__version__}",
            "Accept-Encoding": "identity",
        }
    )
    session.mount(connector.endpoint.base_url + "/", DaemonAdapter(connector))
    return session


def give_back(connection: object) -> None:
    """Once an answer is read whole, and was no informational one, its connection's socket to
    the connector for the next client.

    `connection` is what `response.raw.connection` was when the answer's head came: urllib3
    returns a connection to its pool, and forgets it, as soon as the body is read.
    """
    if isinstance(connection, DaemonConnection):
        connection.give_back()
