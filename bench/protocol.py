"""A Streamlit client without a browser: it speaks the app's own websocket protocol, so one
Python coroutine costs the server what one browser tab costs it, and little else.

How a browser tab talks to `streamlit run` (Streamlit 1.67, read in its frontend bundle
and in streamlit/web/server/starlette/starlette_websocket.py), and what this client does
the same way:

1. `GET` the page's address (path and query). The HTML answer sets the `_streamlit_xsrf`
   cookie (XSRF protection is on in our config). `GET /_stcore/host-config` follows.
   (The browser then loads the static JavaScript, which costs the server a file read;
   this client skips it: the browser figure measures that side.)
2. Open the websocket `ws://HOST/_stcore/stream` with the subprotocols
   `streamlit, <xsrf cookie value>` (the server checks the second entry against the cookie
   when an `Origin` header is sent), the `Origin` of the page and the cookie.
3. Send a `BackMsg` whose `rerun_script` is a `ClientState`: the query string, the
   page's `page_script_hash` (empty with `page_name` set from the URL path on the first
   request, as a deep link does; the hash from the `new_session` message's `app_pages`
   after that, as `st.page_link` navigation does), the widget states (for a filter change,
   every widget's current value with the changed one replaced, as the widget manager
   sends them), the hashes of the cached messages it holds, and the browser's context
   (time zone, locale, URL).
4. Read binary frames, each one serialized `ForwardMsg`, until `script_finished`:
   `new_session` (pages, config), `page_config_changed`, `delta`s (each element or block,
   at `metadata.delta_path`: first index 0 main, 1 sidebar), `page_info_changed` (the new
   query string: the address bar), `session_status_changed`, and finally
   `script_finished`. A delta the client said it had cached arrives as a `ref_hash`
   and is taken from the client's cache (deltas flagged `metadata.cacheable` are kept,
   as the browser keeps them).

A page run's time is from sending the `rerun_script` to receiving its `script_finished`:
the time to the last delta of the run, what the server costs a visitor before the
browser draws anything.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from types import TracebackType
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

XSRF_COOKIE = "_streamlit_xsrf"
# nginx in front of several processes (deploy/nginx.conf.template) names the process that
# answered in this header; a client keeping its cookies stays on that process.
UPSTREAM_HEADER = "X-Outcomes-Upstream"
STREAM_PATH = "/_stcore/stream"
MAX_FRAME_BYTES = 256 * 1024 * 1024  # a page's deltas may be large (chart data)
FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "finished",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "stopped for a rerun",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment finished",
}
CONTAINERS = {0: "main", 1: "sidebar", 2: "event", 3: "bottom"}


class RunFailed(RuntimeError):
    """A page run timed out, lost its connection, or did not finish successfully."""

    def __init__(self, message: str, *, elapsed: float, timed_out: bool = False) -> None:
        super().__init__(message)
        self.elapsed = elapsed
        self.timed_out = timed_out


@dataclass(frozen=True)
class Drawn:
    """One element or block a page run drew: its kind (the proto's oneof name, a block as
    `block:<kind>`), where (main, sidebar ...), and the element itself."""

    kind: str
    container: str
    element: Element | None = None
    block: Any = None


@dataclass
class PageRun:
    """What one page run sent: every element in order, how it ended, and how long."""

    path: str
    query: str
    seconds: float = 0.0
    status: str = ""
    drawn: list[Drawn] = field(default_factory=list)
    page_hash: str = ""  # the page that ran (new_session)
    query_after: str = ""  # page_info_changed: the address bar after the run
    page_config: Any = None
    messages: int = 0
    bytes: int = 0

    @property
    def kinds(self) -> list[str]:
        return [d.kind for d in self.drawn]

    def texts(self) -> list[str]:
        """Headings, markdown, text and alerts, in order: what a reader sees as words."""
        found = []
        for item in self.drawn:
            element = item.element
            if element is None:
                continue
            if item.kind in ("heading", "markdown", "text", "alert"):
                found.append(getattr(element, item.kind).body)
        return found

    def exceptions(self) -> list[str]:
        return [
            f"{d.element.exception.type}: {d.element.exception.message}"
            for d in self.drawn
            if d.kind == "exception" and d.element is not None
        ]

    def widgets(self) -> dict[str, Element]:
        """The filter widgets this run drew, by label (select boxes and date inputs)."""
        return {
            getattr(d.element, d.kind).label: d.element
            for d in self.drawn
            if d.element is not None and d.kind in ("selectbox", "date_input")
        }


def widget_state(element: Element, value: str | None = None) -> WidgetState:
    """The state a browser holds for a select box or date input: its shown value, or
    `value` (a select box's option text, a date input's YYYY-MM-DD) when one is picked."""
    kind = element.WhichOneof("type")
    state = WidgetState()
    if kind == "selectbox":
        box = element.selectbox
        state.id = box.id
        chosen = value if value is not None else box.raw_value
        if not chosen and box.HasField("default") and 0 <= box.default < len(box.options):
            chosen = box.options[box.default]
        state.string_value = chosen
    elif kind == "date_input":
        picker = element.date_input
        state.id = picker.id
        state.string_array_value.data.extend(
            [value] if value is not None else list(picker.value or picker.default)
        )
    else:
        raise ValueError(f"no widget state for a {kind}")
    return state


def _ws_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{STREAM_PATH}"


def _get(url: str, *, cookie: str = "", timeout_s: float) -> tuple[str, Message]:
    """GET `url`; returns the body and the response's headers."""
    safe = urllib.parse.quote(url, safe=":/?&=%+#")  # a query typed with spaces still works
    request = urllib.request.Request(safe, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        body = response.read().decode("utf-8", "replace")
        return body, response.headers


class Session:
    """One browser tab's session: `async with Session(base_url) as s: await s.run(...)`."""

    def __init__(
        self,
        base_url: str,
        *,
        first_url: str = "/",
        timeout_s: float = 60,
        cookies: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.first_url = first_url
        self.timeout_s = timeout_s
        # Every cookie the server sets is kept and sent back, as a browser does: behind
        # nginx the sticky `outcomes_node` cookie is what keeps the HTML request, the
        # host-config request and the websocket on one process. `cookies` presets some
        # (the bench pins a session to a process with it).
        self.cookies: dict[str, str] = dict(cookies or {})
        self.upstream = ""  # the process behind a proxy that served the websocket
        self.pages: dict[str, str] = {}  # url path name ("" for the main page) -> hash
        self.cache: dict[str, ForwardMsg] = {}
        self.xsrf = ""
        self._socket: Any = None
        self.last: PageRun | None = None
        self.current_hash = ""

    async def __aenter__(self) -> Session:
        await self.connect()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Steps 1 and 2: the page's HTML (for the XSRF cookie, and behind nginx the
        sticky cookie), then the websocket, each request with every cookie kept so far.
        Behind nginx, a websocket that reached another process than the page's HTML
        fails the connection: the session did not stick."""
        _, headers = await asyncio.to_thread(
            _get,
            self.base_url + self.first_url,
            cookie=self.cookie_header(),
            timeout_s=self.timeout_s,
        )
        self._keep_cookies(headers.get_all("Set-Cookie") or [])
        page_upstream = headers.get(UPSTREAM_HEADER, "")
        self.xsrf = self.cookies.get(XSRF_COOKIE, "")
        _, headers = await asyncio.to_thread(
            _get,
            self.base_url + "/_stcore/host-config",
            cookie=self.cookie_header(),
            timeout_s=self.timeout_s,
        )
        self._keep_cookies(headers.get_all("Set-Cookie") or [])
        cookie = self.cookie_header()
        protocols = ["streamlit", self.xsrf] if self.xsrf else ["streamlit"]
        self._socket = await asyncio.wait_for(
            websockets.connect(
                _ws_url(self.base_url),
                subprotocols=protocols,  # type: ignore[arg-type]
                origin=self.base_url,  # type: ignore[arg-type]
                additional_headers={"Cookie": cookie} if cookie else None,
                max_size=MAX_FRAME_BYTES,
                compression=None,
                open_timeout=self.timeout_s,
                ping_interval=None,
            ),
            timeout=self.timeout_s,
        )
        response = self._socket.response
        socket_upstream = (response.headers.get(UPSTREAM_HEADER) if response else None) or ""
        self.upstream = socket_upstream or page_upstream
        if page_upstream and socket_upstream != page_upstream:
            await self.close()
            raise RunFailed(
                f"not sticky: the page came from {page_upstream}, "
                f"the websocket reached {socket_upstream or 'an unnamed process'}",
                elapsed=0.0,
            )

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def _keep_cookies(self, set_cookie_headers: Sequence[str]) -> None:
        jar: SimpleCookie = SimpleCookie()
        for header in set_cookie_headers:
            jar.load(header)
        self.cookies.update({name: morsel.value for name, morsel in jar.items()})

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
            self._socket = None

    async def open(self, url: str, *, timeout_s: float | None = None) -> PageRun:
        """Go to `url` (path and query) in this tab: a deep link on the first run, page
        navigation (the page's hash) after it. Returns the finished run."""
        path, _, query = url.partition("?")
        name = path.strip("/")
        try:
            if name in self.pages:
                return await self._rerun(
                    path, query, page_hash=self.pages[name], timeout_s=timeout_s
                )
            return await self._rerun(path, query, page_name=name, timeout_s=timeout_s)
        finally:
            # The page now open, for a filter picked on it: new_session names the entry
            # script on a deep link, whatever page ran, so look the page up by its path.
            self.current_hash = self.pages.get(name, self.current_hash)

    async def pick(self, label: str, value: str, *, timeout_s: float | None = None) -> PageRun:
        """Change the filter labelled `label` on the current page to `value`, as a person
        picking it does: every widget's state, this one changed, on the same page."""
        if self.last is None:
            raise RuntimeError("no page is open")
        widgets = self.last.widgets()
        if label not in widgets:
            raise RunFailed(
                f"{self.last.path}: no filter labelled {label!r} (has {sorted(widgets)})",
                elapsed=0.0,
            )
        states = [
            widget_state(element, value if name == label else None)
            for name, element in widgets.items()
        ]
        return await self._rerun(
            self.last.path,
            self.last.query_after or self.last.query,
            page_hash=self.current_hash,
            widget_states=states,
            timeout_s=timeout_s,
        )

    async def _rerun(
        self,
        path: str,
        query: str,
        *,
        page_hash: str = "",
        page_name: str = "",
        widget_states: Sequence[WidgetState] = (),
        timeout_s: float | None = None,
    ) -> PageRun:
        if self._socket is None:
            raise RuntimeError("not connected")
        message = BackMsg()
        state = message.rerun_script
        state.query_string = query
        state.page_script_hash = page_hash
        state.page_name = page_name
        state.widget_states.widgets.extend(widget_states)
        state.cached_message_hashes.extend(self.cache)
        state.context_info.timezone = "UTC"
        state.context_info.timezone_offset = 0
        state.context_info.locale = "en-US"
        state.context_info.url = self.base_url + path + (f"?{query}" if query else "")
        run = PageRun(path=path, query=query)
        limit = timeout_s or self.timeout_s
        started = time.perf_counter()
        try:
            await self._socket.send(message.SerializeToString())
            await asyncio.wait_for(self._read_until_finished(run), timeout=limit)
        except TimeoutError as error:
            elapsed = time.perf_counter() - started
            raise RunFailed(
                f"{path}: no script_finished within {limit:g} s ({len(run.drawn)} elements)",
                elapsed=elapsed,
                timed_out=True,
            ) from error
        except websockets.ConnectionClosed as error:
            raise RunFailed(
                f"{path}: connection closed ({error})", elapsed=time.perf_counter() - started
            ) from error
        run.seconds = time.perf_counter() - started
        self.last = run
        if run.status != "finished":
            raise RunFailed(f"{path}: the run ended: {run.status}", elapsed=run.seconds)
        if run.exceptions():
            raise RunFailed(f"{path}: {run.exceptions()[0]}", elapsed=run.seconds)
        return run

    async def _read_until_finished(self, run: PageRun) -> None:
        while True:
            frame = await self._socket.recv()
            if isinstance(frame, str):  # the protocol is binary; never expected
                continue
            run.messages += 1
            run.bytes += len(frame)
            message = ForwardMsg()
            message.ParseFromString(frame)
            if self._handle(message, run):
                return

    def _handle(self, message: ForwardMsg, run: PageRun) -> bool:
        """Record one ForwardMsg; True when it ends the run."""
        kind = message.WhichOneof("type")
        if kind == "ref_hash":
            cached = self.cache.get(message.ref_hash)
            if cached is None:  # the server thought we had it: a protocol error for us
                raise RunFailed(f"{run.path}: unknown ref_hash {message.ref_hash}", elapsed=0)
            metadata = message.metadata
            message = ForwardMsg()
            message.CopyFrom(cached)
            message.metadata.CopyFrom(metadata)
            kind = message.WhichOneof("type")
        elif message.metadata.cacheable and message.hash:
            self.cache[message.hash] = message
        if kind == "new_session":
            session = message.new_session
            run.page_hash = session.page_script_hash
            for page in session.app_pages:
                self.pages[page.url_pathname.strip("/")] = page.page_script_hash
            self.pages[""] = session.main_script_hash  # `/`: the entry script
        elif kind == "delta":
            path = list(message.metadata.delta_path)
            where = CONTAINERS.get(path[0], str(path[0])) if path else "main"
            delta = message.delta
            if delta.WhichOneof("type") == "new_element":
                element = delta.new_element
                run.drawn.append(Drawn(element.WhichOneof("type") or "", where, element))
            elif delta.WhichOneof("type") == "add_block":
                block = delta.add_block
                run.drawn.append(Drawn(f"block:{block.WhichOneof('type')}", where, None, block))
        elif kind == "page_info_changed":
            run.query_after = message.page_info_changed.query_string
        elif kind == "page_config_changed":
            run.page_config = message.page_config_changed
        elif kind == "script_finished":
            run.status = FINISHED.get(message.script_finished, str(message.script_finished))
            # A run stopped for a rerun is followed by the rerun itself: keep reading.
            return message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
        elif kind == "session_event" and message.session_event.HasField(
            "script_compilation_exception"
        ):
            error = message.session_event.script_compilation_exception
            run.drawn.append(Drawn("exception", "main", _exception_element(error)))
        return False


def _exception_element(error: Any) -> Element:
    element = Element()
    element.exception.CopyFrom(error)
    return element


def element_kinds(runs: Sequence[PageRun]) -> Mapping[str, int]:
    """How many of each kind the runs drew (for a report)."""
    counts: dict[str, int] = {}
    for run in runs:
        for kind in run.kinds:
            counts[kind] = counts.get(kind, 0) + 1
    return counts
