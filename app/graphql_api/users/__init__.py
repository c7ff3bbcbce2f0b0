"""Users: the User type, its org-chart fields and the user queries."""
