"""Where the dashboard leans on Streamlit's private parts, applied once at import.

pages/_auth.py imports this module, and every page imports pages/_auth.py (login and the admin
pages too), so the patch is in place before any page draws. It touches
``streamlit.runtime.pages_manager.PagesManager``, which is not public API:
tests/test_compat.py pins the Streamlit version it was checked against and fails when the
installed version changes, so that someone re-checks it (and then moves the pin).
"""

from __future__ import annotations

import streamlit as st

CHECKED_STREAMLIT = "1.67.0"  # the Streamlit release this patch was last checked against


def leave_pages_directory_mode() -> None:
    """Streamlit runs an app in its old "pages directory" mode (every file of pages/ listed by its
    file name, dashboard.py never run) when the first visit after a server start is a deep link
    such as /map or /login, because st.navigation, which switches that mode off, lives in
    dashboard.py. A page that finds itself in that mode switches it off and reruns, so
    dashboard.py's navigation (Chinese titles, sections) takes over for this and every later
    session."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


leave_pages_directory_mode()
