"""pages/_compat.py patches a private part of Streamlit: these tests fail when Streamlit changes
under it, so that someone re-checks the patch before the dashboard misbehaves."""

from importlib.metadata import version

from pages import _compat


def test_the_installed_streamlit_is_the_release_the_patch_was_checked_against():
    installed = version("streamlit")
    assert installed == _compat.CHECKED_STREAMLIT, (
        f"Streamlit {installed} is installed; pages/_compat.py was checked against {_compat.CHECKED_STREAMLIT}. "
        "Re-check that a deep link opened first after a server start still shows dashboard.py's navigation "
        "(tests/test_busy_browser.py), then set CHECKED_STREAMLIT.")


def test_the_private_flag_the_patch_switches_off_still_exists():
    from streamlit.runtime.pages_manager import PagesManager

    assert "uses_pages_directory" in vars(PagesManager)  # a class attribute, read on every page run
