"""The sign-in panel: who may edit in this session (the rules are :mod:`geo.auth`'s).

The identity comes from the reverse proxy's header when one is set and believed, else from
this session's password sign-in, else the panel offers the sign-in form (with users in
``.streamlit/secrets.toml``) or says the app is read-only. Failed sign-ins are counted in
one record the whole server shares, so a wait cannot be escaped by opening another tab.
"""

from __future__ import annotations

import contextlib
import time

import streamlit as st
from streamlit import runtime
from streamlit.errors import StreamlitSecretNotFoundError
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from display.labels import text
from display.safe import md
from geo.auth import Client, SignedIn, Throttle, User, sign_in, user_from_header
from geo.errors import SignInError, message
from geo.oplog import operation
from geo.settings import Settings

__all__ = ["current_user", "this_client"]

#: Longest user name or password the form takes, characters.
_FORM_CHARS = 200


def this_client() -> Client:
    """The browser this run serves: the address its connection came from, as the server
    saw it, and its ``User-Agent``.

    The address is the session client's, not ``st.context.ip_address``, which says None
    for a connection from the machine itself: where a reverse proxy on the same host
    connects from. Outside a server (a test of the page, whose runtime is a stand-in) it is empty.
    """
    ctx = get_script_run_ctx()
    session = runtime.get_instance().get_client(ctx.session_id) if ctx is not None and runtime.exists() else None
    context = session.client_context if session is not None else None
    address = context.remote_ip if context is not None else None
    return Client(address if isinstance(address, str) else "", st.context.headers.get("User-Agent", ""))


@st.cache_resource(show_spinner=False)
def _throttle(max_s: float) -> Throttle:
    """The server's one record of failed sign-ins, shared by every session."""
    return Throttle(max_s=max_s)


def _secret_users() -> dict[str, dict[str, str]]:
    """The ``[users]`` table of ``.streamlit/secrets.toml``; empty without one."""
    try:
        users = st.secrets.get("users", {})
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return {}
    return {str(k): dict(v) for k, v in users.items()}


def _log_refusal(exc: SignInError, *, who: str | None, client: Client) -> None:
    """Write ``exc`` as a failed ``sign_in`` line of the operation log (the caller shows it)."""
    with contextlib.suppress(SignInError), operation("sign_in", who=who, client=client.address or None):
        raise exc


def _header_user(settings: Settings, client: Client, lang: str) -> User | None:
    """The user the proxy's header names, when it is believed; a refused one is shown, and logged once."""
    values = st.context.headers.get_all(settings.auth_header) if settings.auth_header else []
    try:
        return user_from_header(values, header=settings.auth_header, client=client, proxies=settings.trusted_proxies)
    except SignInError as exc:
        seen = (tuple(values), client.address)
        if st.session_state.get("header_refused") != seen:  # logged once, not on every rerun
            st.session_state["header_refused"] = seen
            _log_refusal(exc, who=", ".join(values)[:100], client=client)
        st.warning(md(message(exc, lang)))
        return None


def current_user(lang: str, settings: Settings) -> User | None:
    """The identified editor of this run, or None (the form or the read-only note shown).

    A password sign-in is kept in the session with the client that made it: when another
    browser or address presents the session, or the sign-in is older than
    ``NANGUAN_SIGNIN_MAX_AGE_H``, it ends and the form shows again.
    """
    client = this_client()
    user = _header_user(settings, client, lang)
    if user is not None:
        return user
    state = st.session_state
    signed = state.get("user")
    if isinstance(signed, SignedIn):
        try:
            signed.check(client, now_s=time.time(), max_age_h=settings.signin_max_age_h)
        except SignInError as exc:
            del state["user"]
            _log_refusal(exc, who=signed.user.login, client=client)
            st.warning(md(message(exc, lang)))
        else:
            return signed.user
    users = _secret_users()
    if not users:
        st.caption(text("read_only", lang))
        return None
    with st.form("login"):
        login = st.text_input(text("login", lang), key="login_name", max_chars=_FORM_CHARS)
        password = st.text_input(text("password", lang), type="password", key="login_password", max_chars=_FORM_CHARS)
        if not st.form_submit_button(text("sign_in", lang)):
            return None
        try:
            user = sign_in(users, login, password, client=client, throttle=_throttle(settings.signin_delay_max_s))
        except SignInError as exc:
            st.error(md(message(exc, lang)))
            return None
    state["user"] = SignedIn(user, client, time.time())
    return user
