"""Names the command line offers before anything heavy is imported (`ha-agent --help` stays fast)."""

PATHS = ("local", "model")  # the intent engine alone; the configured model
DIFFICULTIES = ("template", "hard")  # how a set's category list marks a sentence
