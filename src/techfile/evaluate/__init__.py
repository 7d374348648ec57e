"""`techfile evaluate`: disaggregated and intersectional metrics computed from a predictions file, with
stratified-bootstrap confidence intervals, written into the model's results with their provenance.

Needs the `evaluate` extra (Fairlearn, scikit-learn, numpy, pandas, pyarrow); every heavy import is inside a
function, so `techfile check` never loads them.
"""
