"""Streamlit pages. Each page reads its inputs, calls the core, renders the result."""
