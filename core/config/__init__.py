"""core.config: every frozen configuration dataclass (run, data, model, training, settings)."""
