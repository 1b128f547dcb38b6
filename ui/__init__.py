"""The Streamlit shell around the page: one panel a module, and how the page is served.

``signin`` is the sign-in panel (who may edit); ``server`` is what ``streamlit run app.py``
puts in front of the page (framing headers, the metrics endpoint, the developer's
messages a client may not send) and how a bug the page did not catch is shown.
"""
