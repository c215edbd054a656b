"""Dialogs: new case, analyze, model manager and import, export, verify results, preferences, help."""
