"""MyFitnessPal: its CSV export into nutrition days, and the trainer's daily targets."""
