"""The local intent engine: Home Assistant's sentence matcher (`hassil`) and sentence library
(`home-assistant-intents`) over the mirror, acting through the agent's own tools.

    engine = LocalEngine(settings.intents)
    answer = await engine.answer(message, home, toolbox, env)  # LocalAnswer, or None
"""

from .engine import LocalEngine
from .language import supported_languages
from .model import IntentMatch, LocalAnswer, Question, Step

__all__ = ["IntentMatch", "LocalAnswer", "LocalEngine", "Question", "Step", "supported_languages"]
