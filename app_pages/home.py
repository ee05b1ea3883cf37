"""Home: what the studio does, the steps, the sample-dataset shortcut, and the session status.

This page must stay fast: it never imports TensorFlow (bench/app_startup.py measures it).
"""

from __future__ import annotations

import streamlit as st

from ui import common, home, session

access = common.workspace_or_stop()
common.page_header(
    "Transfer-learning studio",
    "Train an image classifier on your own pictures by reusing a network pretrained on "
    "ImageNet. No code needed; every step explains itself.",
)
if access.is_owner:
    # The main action comes first: on a phone the columns stack, and it stays above the fold.
    action, steps = st.columns([2, 3], gap="large")
    with action, st.container(border=True):
        st.subheader("New here?")
        st.write(
            "Train a classifier of drawn shapes (4 classes, 400 images generated here) in about "
            "half a minute, then evaluate it and try it on images."
        )
        if st.button(
            "Train the demo", type="primary", key="home_demo", icon=":material/play_arrow:"
        ):
            home.start_demo()
        st.caption(home.demo_recipe())
        if st.button("Only load the sample dataset", key="home_sample"):
            home.load_sample_dataset()
    with steps:
        st.subheader("How it works")
        home.show_steps()
else:  # a read-only link: what was shared, no action that would change the workspace
    with st.container(border=True):
        home.show_shared_welcome()
st.divider()
st.subheader("This workspace")
home.show_status(access.is_owner)
if access.is_owner and not session.get_settings().shared_workspace:
    st.caption(
        "Your runs are kept in a private workspace named in the address bar (`ws=`). Bookmark "
        "the page to come back to them. Whoever has that address can change and delete them: "
        "to show your runs to someone, share a read-only link from the Runs page."
    )
