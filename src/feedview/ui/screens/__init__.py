"""Screens pushed over the dashboard: details, the add-panel form, the welcome page."""
