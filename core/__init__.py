"""The studio's engine: pure Python/Keras, importable and testable without Streamlit.

Importing ``core`` is cheap: submodules that need TensorFlow import it themselves, so
UI code that only needs configs or the run store does not pay for a TensorFlow import.
"""
