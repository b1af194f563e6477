"""Predictions: a trained model applied to sequences and structures without all-atom data of
their own (config `predict`, docs/predict.md)."""
