"""Streamlit helpers shared by the pages (session state, workspace, common widgets)."""
