"""Groups: the Group type and the group queries."""
