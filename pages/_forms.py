"""Forms that keep what was typed when a save is refused, for the person to correct, and start
empty after a save (``st.form(clear_on_submit=True)`` emptied them either way)."""

import streamlit as st


def clear_saved(*prefixes: str) -> None:
    """Forget the values of the widgets whose keys start with one of ``prefixes`` (a form's), so
    the run after a save draws the form empty. Call it only after the save succeeded."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefixes)]:
        del st.session_state[key]
