"""Human handoff: campaign queues, routing, agent and supervisor consoles (issue 3)."""
