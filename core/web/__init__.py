"""Web helpers shared by every feature's routers: typed dependencies and the staff pages."""
