"""What one model answer may cost: bytes read and inflated, one line's length, the answer's length."""

from __future__ import annotations

# A token is rarely longer than this many characters (code tokens average three to four).
CHARS_PER_TOKEN = 16
# Room over tokens x CHARS_PER_TOKEN (a few long tokens, a tokenizer's oddities).
ANSWER_SLACK_CHARS = 1024
# The highest maxTokens the settings accept: the default bound cuts no answer they allow.
MAX_TOKENS_ALLOWED = 8192

# Body bytes (read from the wire, and again after inflation) an answer may take: a base for
# keep-alive comments, a closing summary or Ollama's context array, plus bytes per answer
# character. A streamed event is ~200 bytes of JSON for a token of one to four characters, so
# 32 bytes a character (512 a token) is generous.
BODY_BASE_BYTES = 1 << 20
BODY_BYTES_PER_CHAR = 32

# One SSE line or event, one NDJSON line: a whole answer in one event fits many times over.
LINE_CHARS = 1 << 20
# The part of an error body that is read: enough for any API's error JSON.
ERROR_BODY_BYTES = 64 << 10
# Bodies are handled in pieces of at most this many bytes (compressed ones inflate to such
# pieces, so one small chunk of a bomb never expands at once): one piece of the worst lines
# (a comment line of two bytes each) decodes in ~3 ms, the longest the event loop waits.
INFLATE_PIECE_BYTES = 16 << 10
# What is read of a finished stream to keep its connection (a [DONE], the chunked end).
DRAIN_BYTES = 64 << 10
DRAIN_SECONDS = 0.2
# Work between two yields to the event loop: bytes, with each chunk and item counted as
# ITEM_COST_BYTES (a flood of tiny chunks or events costs per piece, not per byte).
YIELD_EVERY_BYTES = 16 << 10
ITEM_COST_BYTES = 1 << 10


def answer_chars(max_tokens: int) -> int:
    """The most answer text `max_tokens` tokens may plausibly be."""
    return max(1, max_tokens) * CHARS_PER_TOKEN + ANSWER_SLACK_CHARS


def body_bytes(max_chars: int) -> int:
    """The most body bytes (read, and after inflation) an answer of `max_chars` may take."""
    return BODY_BASE_BYTES + BODY_BYTES_PER_CHAR * max(0, max_chars)


DEFAULT_ANSWER_CHARS = answer_chars(MAX_TOKENS_ALLOWED)
