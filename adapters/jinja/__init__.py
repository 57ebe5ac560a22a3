"""Prompt templates rendered with Jinja2."""
