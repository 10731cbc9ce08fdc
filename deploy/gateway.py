"""The nginx gateway: render its config and run it as an unprivileged child process.

``render_config`` turns upstream base URLs into an nginx config (template
``deploy/nginx.conf.j2``); ``NginxGateway`` starts nginx on a port, waits until it answers
and stops it again::

    async with NginxGateway(8080, upstreams={"catalog": "http://127.0.0.1:8101", ...},
                            workdir=Path("var/nginx")) as base_url:
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import aiohttp
import jinja2

TEMPLATE = Path(__file__).with_name("nginx.conf.j2")
STOREFRONT = Path(__file__).resolve().parents[1] / "storefront" / "public"
FALLBACK_NGINX = Path("/usr/sbin/nginx")
SERVICES = ("catalog", "orders", "customers", "notifications")

# Path prefix -> the service that answers it (the public contract, docs/CONVENTIONS.md).
ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/catalog/", "catalog"),
    ("/api/stats/", "catalog"),
    ("/api/orders/", "orders"),
    ("/api/payments/", "orders"),
    ("/api/fulfilment/", "orders"),
    ("/api/customers/", "customers"),
    ("/account/", "customers"),
    ("/api/notifications/", "notifications"),
)

# The storefront's pages (besides /, /products/{id}, /orders/{id}): path -> file.
STOREFRONT_PAGES: tuple[tuple[str, str], ...] = (
    ("/cart", "cart.html"),
    ("/orders", "orders.html"),
    ("/cookies", "cookies.html"),
)
# Its scripts, styles and texts come from this site only; no inline script or style, no
# frames, no string-to-HTML sinks (Trusted Types), forms post here only.
STOREFRONT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'; require-trusted-types-for 'script'"
)
PAGE_CACHE = "no-cache"  # revalidated each time (ETag): a new release shows at once
ASSET_CACHE = "public, max-age=3600"
UUID_RE = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# Trusted by default to send X-Forwarded-For: loopback, so a local balancer can stand in front.
LOOPBACK: tuple[str, ...] = ("127.0.0.1", "::1")
LOG_SEGMENTS = 8  # path segments the access log shows the shape of
# Passive health of a service's replicas: after this many failed tries in FAIL_TIMEOUT nginx
# sends it nothing for FAIL_TIMEOUT (then tries it again).
MAX_FAILS = 2
FAIL_TIMEOUT = "5s"

# A service's base URL, or the base URLs of its replicas (nginx balances over them).
Upstream = str | Sequence[str]


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem nginx answers itself; its text is ours, nothing of the request."""

    status: int
    title: str
    detail: str

    def json(self) -> str:
        document = {"type": "about:blank", "title": self.title, "status": self.status}
        return json.dumps({**document, "detail": self.detail}, separators=(",", ":"))


# nginx's error status -> the problem it answers with. A client's fault is a 4xx: nginx's 494
# (a header or the cookies too large), 501 (an unknown Transfer-Encoding) and 505 (an HTTP
# version it does not speak) become 431 and 400.
BAD_REQUEST = "Bad Request"
ERRORS: dict[int, Problem] = {
    400: Problem(400, BAD_REQUEST, "The request could not be read."),
    403: Problem(403, "Forbidden", "This resource is not available."),
    404: Problem(404, "Not Found", "No resource at this path."),
    405: Problem(405, "Method Not Allowed", "This method is not allowed here."),
    408: Problem(408, "Request Timeout", "The request took too long to arrive."),
    411: Problem(411, "Length Required", "A request body needs a Content-Length."),
    413: Problem(413, "Content Too Large", "The request body is larger than the gateway accepts."),
    414: Problem(414, "URI Too Long", "The request URI is too long."),
    494: Problem(
        431,
        "Request Header Fields Too Large",
        "A request header or the cookies are larger than the gateway accepts.",
    ),
    500: Problem(500, "Internal Server Error", "The gateway failed to handle the request."),
    501: Problem(400, BAD_REQUEST, "The request uses a transfer coding the gateway does not know."),
    502: Problem(502, "Bad Gateway", "The service behind the gateway did not answer."),
    503: Problem(503, "Service Unavailable", "The service is unavailable, try again later."),
    504: Problem(504, "Gateway Timeout", "The service behind the gateway did not answer in time."),
    505: Problem(400, BAD_REQUEST, "The request is not HTTP/1.x."),
}
# Errors nginx can meet while reading the request line, before there is a URI.
REQUEST_LINE_ERRORS = frozenset({400, 414, 505})


def error_target(status: int) -> str:
    """Where ``error_page`` sends an nginx error: a named location, unless there is no URI."""
    return f"/_gateway/problems/{status}" if status in REQUEST_LINE_ERRORS else f"@problem_{status}"


class GatewayError(RuntimeError):
    """nginx could not be found, configured or started."""


def find_nginx() -> Path:
    found = shutil.which("nginx")
    if found:
        return Path(found)
    if FALLBACK_NGINX.exists():
        return FALLBACK_NGINX
    raise GatewayError("nginx not found: install it (make deps, or apt-get install nginx-light)")


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now (for tests; another process could take it before nginx does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def upstream_addresses(upstream: Upstream) -> list[str]:
    urls = [upstream] if isinstance(upstream, str) else list(upstream)
    if not urls:
        raise GatewayError("an upstream needs at least one server")
    return [upstream_address(url) for url in urls]


def upstream_address(base_url: str) -> str:
    """``http://127.0.0.1:8101`` -> ``127.0.0.1:8101`` (an nginx ``server`` address)."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
        raise GatewayError(f"upstream must be http://host:port, got {base_url!r}")
    return f"{parts.hostname}:{parts.port or 80}"


def trusted_networks(networks: Iterable[str]) -> list[str]:
    """Networks nginx takes X-Forwarded-For from, checked (they go into the config as is)."""
    try:
        return [str(ipaddress.ip_network(network, strict=False)) for network in networks]
    except ValueError as exc:
        raise GatewayError(f"not a network: {exc}") from None


def trusted_proxies_setting(value: str | None) -> tuple[str, ...]:
    """``SHOP_TRUSTED_PROXIES`` (comma-separated networks; empty trusts none), else loopback."""
    if value is None:
        return LOOPBACK
    return tuple(part.strip() for part in value.split(",") if part.strip())


def render_config(
    port: int,
    upstreams: Mapping[str, Upstream],
    workdir: Path,
    *,
    host: str = "127.0.0.1",
    balanced: Mapping[str, int] | None = None,
    trusted_proxies: Iterable[str] = LOOPBACK,
    max_body: str = "64k",
    connect_timeout: str = "5s",
    read_timeout: str = "30s",
    storefront: Path = STOREFRONT,
    run_as_root: bool | None = None,
    logs: Path | None = None,
) -> str:
    """The nginx config; ``run_as_root`` defaults to whether this process is root, ``logs``
    (a directory, or ``/dev`` for a container's stdout and stderr) to ``workdir/logs``.
    ``balanced`` (service -> port): a listener on 127.0.0.1 per service that passes everything
    to its replicas, for the services' calls to each other (``/internal/`` included)."""
    missing = sorted(set(SERVICES) - set(upstreams))
    if missing:
        raise GatewayError(f"no upstream for {', '.join(missing)}")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE.parent),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 (an nginx config, not HTML; inputs are our own)
        keep_trailing_newline=True,
    )
    return env.get_template(TEMPLATE.name).render(
        workdir=workdir.resolve(),
        run_as_root=os.geteuid() == 0 if run_as_root is None else run_as_root,
        access_log=log_path(workdir, logs, "access.log"),
        error_log=log_path(workdir, logs, "error.log"),
        host=host,
        port=port,
        max_body=max_body,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        upstreams={name: upstream_addresses(upstreams[name]) for name in SERVICES},
        max_fails=MAX_FAILS,
        fail_timeout=FAIL_TIMEOUT,
        balanced=dict(balanced or {}),
        routes=ROUTES,
        errors=ERRORS,
        error_target=error_target,
        trusted_proxies=trusted_networks(trusted_proxies),
        log_segments=LOG_SEGMENTS,
        storefront_root=storefront.resolve(),
        storefront_pages=STOREFRONT_PAGES,
        storefront_csp=STOREFRONT_CSP,
        page_cache=PAGE_CACHE,
        asset_cache=ASSET_CACHE,
        uuid_re=UUID_RE,
    )


def log_path(workdir: Path, logs: Path | None, name: str) -> str:
    """Where a log goes: ``workdir/logs/<name>``, or a container's ``/dev/stdout`` or
    ``/dev/stderr`` when ``logs`` is ``/dev``."""
    if logs == Path("/dev"):
        return "/dev/stdout" if name == "access.log" else "/dev/stderr"
    return str((logs or workdir.resolve() / "logs") / name)


def prepare_workdir(workdir: Path) -> None:
    for sub in ("logs", "tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)


class NginxGateway:
    """nginx in front of the four services, as a child process (async context manager)."""

    def __init__(
        self,
        listen_port: int,
        upstreams: Mapping[str, Upstream],
        workdir: Path,
        *,
        host: str = "127.0.0.1",
        balanced: Mapping[str, int] | None = None,
        trusted_proxies: Iterable[str] = LOOPBACK,
        read_timeout: str = "30s",
        start_timeout_s: float = 10.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        self.port = listen_port
        self.host = host
        self.upstreams = dict(upstreams)
        self.balanced = dict(balanced or {})
        self.trusted_proxies = tuple(trusted_proxies)
        self.read_timeout = read_timeout
        self.workdir = workdir.resolve()
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self._process: asyncio.subprocess.Process | None = None

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "*") else self.host
        return f"http://{host}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.workdir / "nginx.conf"

    @property
    def access_log(self) -> Path:
        return self.workdir / "logs" / "access.log"

    @property
    def error_log(self) -> Path:
        return self.workdir / "logs" / "error.log"

    @property
    def stderr_log(self) -> Path:
        return self.workdir / "logs" / "stderr.log"

    async def __aenter__(self) -> str:
        await self.start()
        return self.base_url

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def command(self) -> list[str]:
        return [
            str(find_nginx()),
            "-p", f"{self.workdir}/",
            "-e", str(self.error_log),
            "-c", str(self.config_path),
        ]  # fmt: skip

    async def start(self) -> None:
        prepare_workdir(self.workdir)
        self.config_path.write_text(
            render_config(
                self.port,
                self.upstreams,
                self.workdir,
                host=self.host,
                balanced=self.balanced,
                trusted_proxies=self.trusted_proxies,
                read_timeout=self.read_timeout,
            )
        )
        with self.stderr_log.open("ab") as stderr:
            self._process = await asyncio.create_subprocess_exec(
                *self.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # its own process group: a kill reaches the workers
            )
        try:
            await self._wait_until_answering()
        except BaseException:
            await self.stop()
            raise

    async def _wait_until_answering(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout_s
        timeout = aiohttp.ClientTimeout(total=1)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while time.monotonic() < deadline:
                if self._process.returncode is not None:
                    raise GatewayError(f"nginx exited at start: {self._log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{self.base_url}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise GatewayError(f"nginx did not answer on {self.base_url} in {self.start_timeout_s}s")

    def _log_tail(self) -> str:
        text = ""
        for path in (self.stderr_log, self.error_log):
            if path.exists():
                text += path.read_text(errors="replace")
        return text.strip()[-2000:] or "no output"

    async def stop(self) -> None:
        """Graceful stop (SIGQUIT), then SIGKILL after ``stop_timeout_s``."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGQUIT)
        try:
            await asyncio.wait_for(process.wait(), self.stop_timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
