"""The Predict page: choosing a model (models) and classifying images with it (answers)."""
