"""Evaluation: metrics, their names, realism, the evaluation runs."""
