"""A browser tab in a few lines: Streamlit's protocol spoken over a websocket from Python.

The server tests use it to send what a crafted client can send and a browser would not:
its own headers, another session's id, a developer's back message, any widget value. It
speaks the protocol as Streamlit 1.67's frontend does: protobuf ``BackMsg`` frames up,
``ForwardMsg`` frames down, a run asked for with ``rerun_script`` and over at
``script_finished``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

from google.protobuf.message import Message
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import ClientConnection, connect

__all__ = ["CLICK", "Json", "Run", "Tab", "strings"]


@dataclass(frozen=True)
class Json:
    """A component's value (the map's), as the JSON text the browser sends."""

    text: str


#: A button's (or a form's submit button's) press.
CLICK = object()


def strings(msg: Message) -> Iterator[str]:
    """Every text a message holds, however deep."""
    for descriptor, value in msg.ListFields():
        values = value if descriptor.is_repeated else [value]
        for v in values:
            if isinstance(v, str):
                yield v
            elif isinstance(v, Message):
                yield from strings(v)


@dataclass
class Run:
    """What one script run sent: its elements, and the session it ran in."""

    session_id: str = ""
    elements: list[Message] = field(default_factory=list)

    def widget_id(self, key: str) -> str:
        """The id of the widget whose ``key=`` is ``key``."""
        for element in self.elements:
            widget = getattr(element, element.WhichOneof("type") or "", None)
            wid = getattr(widget, "id", "")
            if isinstance(wid, str) and wid.endswith(f"-{key}"):
                return wid
        raise KeyError(key)

    def component_id(self, name: str) -> str:
        """The widget id of the custom component ``name`` (its id hides the key)."""
        for element in self.elements:
            if element.WhichOneof("type") == "component_instance" and element.component_instance.component_name == name:
                return str(element.component_instance.id)
        raise KeyError(name)

    def keys(self) -> set[str]:
        """The ``key=`` of every widget drawn (the part of its id after the last ``-``)."""
        found = set()
        for element in self.elements:
            wid = getattr(getattr(element, element.WhichOneof("type") or "", None), "id", "")
            if isinstance(wid, str) and wid.startswith("$$ID-"):
                found.add(wid.split("-", 2)[-1])
        return found

    def texts(self) -> list[str]:
        return [s for element in self.elements for s in strings(element)]

    def kinds(self) -> list[str]:
        return [element.WhichOneof("type") or "" for element in self.elements]


class Tab:
    """One connection to the app, as a browser tab makes it (a context manager: it closes).

    Parameters
    ----------
    url : str
        The app's ``http://host:port``.
    headers : sequence of (name, value)
        Extra request headers of the websocket's handshake (repeats allowed).
    session_id : str, optional
        A session to take up, as a reconnecting tab does.
    agent : str
        The ``User-Agent``.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        session_id: str | None = None,
        agent: str = "tests/stclient",
    ) -> None:
        # the subprotocol header carries, after "streamlit", an XSRF token and the session to resume
        protocols = ["streamlit", "xsrf", session_id] if session_id else ["streamlit"]
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(
                url.replace("http://", "ws://") + "/_stcore/stream",
                subprotocols=protocols,  # type: ignore[arg-type]
                additional_headers=list(headers),
                user_agent_header=agent,
                max_size=None,
                open_timeout=60,
            )
        )

    def __enter__(self) -> Tab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, msg: BackMsg) -> None:
        self.ws.send(msg.SerializeToString())

    def run(self, widgets: Mapping[str, object] | None = None, *, timeout_s: float = 180) -> Run:
        """Ask for a run with ``widgets`` (widget id -> value) and collect what it draws."""
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        for wid, value in (widgets or {}).items():
            state = msg.rerun_script.widget_states.widgets.add()
            state.id = wid
            if value is CLICK:
                state.trigger_value = True
            elif isinstance(value, Json):
                state.json_value = value.text
            elif isinstance(value, str):
                state.string_value = value
            else:
                raise TypeError(f"no widget state for {value!r}")
        self.send(msg)
        run = Run()
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(self.ws.recv(timeout=timeout_s))
            kind = forward.WhichOneof("type")
            if kind == "new_session":
                run.session_id = forward.new_session.initialize.session_id
            elif kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                run.elements.append(forward.delta.new_element)
            elif kind == "script_finished":
                return run

    def close(self) -> None:
        self._stack.close()
