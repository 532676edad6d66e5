"""The JSON API for host learning platforms, and the admins' pages for its tokens."""
