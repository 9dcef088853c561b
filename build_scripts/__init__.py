"""The TraderAdmin release engine: one module per concern, plain functions that tasks call."""
