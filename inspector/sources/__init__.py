"""Where images come from: each source turns names into image records."""
