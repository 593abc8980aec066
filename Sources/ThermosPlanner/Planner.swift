// Placeholder replaced by the planner implementation.
