"""Configuration: the typed models and the loader (env interpolation, line-aware errors)."""

from entrypoints.settings.errors import ConfigError, ConfigProblem
from entrypoints.settings.loader import load_settings
from entrypoints.settings.models import Settings

__all__ = ["ConfigError", "ConfigProblem", "Settings", "load_settings"]
