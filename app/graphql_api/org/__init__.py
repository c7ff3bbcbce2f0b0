"""Org-wide questions: common manager, reporting path, org health."""
