"""Renderers: each turns the daemon's answers into the text of one output form."""
