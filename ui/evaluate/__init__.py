"""The Evaluate page's parts: the evaluation (``results``), the clickable confusion matrix
(``confusion``), the run analyses as jobs (``analyses``) and the label-error gallery with its
corrected dataset version and one-click retrain (``label_fixes``)."""
