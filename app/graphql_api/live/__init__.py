"""Live directory changes: GraphQL subscriptions fed by the activity log."""
