"""core.cluster: the optional Ray side: connecting, feature extraction and prediction."""
