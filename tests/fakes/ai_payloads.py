"""Answers shaped like the Anthropic Messages API and OpenAI chat completions, for respx routes."""

from __future__ import annotations

from typing import Any

ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"
OPENAI_URL = "https://api.openai.com/v1/chat/completions"
COMPATIBLE_BASE = "https://llm.example.test/v1beta/openai/"
COMPATIBLE_URL = COMPATIBLE_BASE + "chat/completions"

ANTHROPIC_KEY = "sk-ant-api03-SECRETSECRETSECRET"
OPENAI_KEY = "sk-proj-SECRETSECRETSECRET"


def anthropic_message(text: str, input_tokens: int = 1000, output_tokens: int = 500,
                      model: str = "claude-sonnet-4-5-20250929") -> dict[str, Any]:
    return {"id": "msg_01", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def chat_completion(text: str, prompt_tokens: int = 1000, completion_tokens: int = 500,
                    model: str = "gpt-4.1-2025-04-14") -> dict[str, Any]:
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1_760_000_000, "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def openai_error(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
