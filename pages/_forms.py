"""Forms that keep what was typed when a save is refused, for the person to correct, and start
empty after a save. ``st.form(clear_on_submit=True)`` emptied them either way; and forgetting a
widget's value on the server does not empty what the browser shows. So a form's widgets are
keyed by the form's generation: the same while saves are refused, a new one after each save,
which the browser draws as new, empty widgets."""

import streamlit as st


def form_key(name: str) -> str:
    """The key of form ``name`` now, the prefix of its widgets' keys: ``name_0`` until the first save."""
    return f"{name}_{st.session_state.get(_counter(name), 0)}"


def saved(name: str) -> None:
    """Form ``name`` was saved: the next run draws it empty (its widgets under a new key)."""
    st.session_state[_counter(name)] = st.session_state.get(_counter(name), 0) + 1


def _counter(name: str) -> str:
    return f"{name}__saves"
