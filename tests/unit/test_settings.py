"""Settings: camelCase on the wire, validation with messages, key and endpoint pairing."""

from __future__ import annotations

from fim_lsp.settings import (
    CODESTRAL_ENDPOINT,
    MISTRAL_ENDPOINT,
    Settings,
    parse_settings,
    unwrap,
)


def test_defaults() -> None:
    settings, problems = parse_settings({}, env={})
    assert problems == []
    assert settings.api_key == "" and settings.endpoint == CODESTRAL_ENDPOINT
    assert settings.model == "codestral-latest"


def test_camel_case_values_are_converted() -> None:
    settings, problems = parse_settings(
        {
            "maxTokens": 64,
            "debounceMs": 10,
            "stop": "\n\n",
            "disabledLanguages": ["markdown"],
            "temperature": 0,
        },
        env={},
    )
    assert problems == []
    assert (settings.max_tokens, settings.debounce_ms, settings.stop) == (64, 10, ("\n\n",))
    assert settings.temperature == 0.0 and isinstance(settings.temperature, float)
    assert not settings.language_enabled("markdown") and settings.language_enabled("python")


def test_invalid_values_keep_the_default_and_name_the_key() -> None:
    settings, problems = parse_settings(
        {
            "maxTokens": "lots",
            "temperature": 9,
            "enable": "yes",
            "endpoint": "ftp://x",
            "completionItems": "maybe",
            "apiKey": 5,
        },
        env={},
    )
    assert settings == Settings(endpoint=CODESTRAL_ENDPOINT)
    assert len(problems) == 6
    for key in ("maxTokens", "temperature", "enable", "endpoint", "completionItems", "apiKey"):
        assert any(f"fimLsp.{key} " in p for p in problems), key
    assert not any("5" in p for p in problems if "apiKey" in p), "the key's value is never shown"


def test_unknown_keys_are_ignored() -> None:
    assert parse_settings({"somethingElse": 1}, env={})[1] == []


def test_codestral_key_goes_to_codestral() -> None:
    s, _ = parse_settings({}, env={"CODESTRAL_API_KEY": "c"})
    assert (s.api_key, s.endpoint) == ("c", CODESTRAL_ENDPOINT)


def test_mistral_key_goes_to_la_plateforme() -> None:
    s, _ = parse_settings({}, env={"MISTRAL_API_KEY": "m"})
    assert (s.api_key, s.endpoint) == ("m", MISTRAL_ENDPOINT)


def test_endpoint_host_picks_the_matching_key() -> None:
    env = {"CODESTRAL_API_KEY": "c", "MISTRAL_API_KEY": "m"}
    assert parse_settings({"endpoint": MISTRAL_ENDPOINT}, env=env)[0].api_key == "m"
    assert parse_settings({"endpoint": CODESTRAL_ENDPOINT}, env=env)[0].api_key == "c"
    assert (
        parse_settings({"endpoint": "http://127.0.0.1:9"}, env={"MISTRAL_API_KEY": "m"})[0].api_key
        == "m"
    )


def test_explicit_key_and_env_endpoint() -> None:
    s, _ = parse_settings({"apiKey": "sk-secret"}, env={"FIM_LSP_ENDPOINT": "http://127.0.0.1:8/"})
    assert (s.api_key, s.base_url) == ("sk-secret", "http://127.0.0.1:8")
    assert "sk-secret" not in repr(s)


def test_unwrap_accepts_flat_or_nested() -> None:
    assert unwrap({"fimLsp": {"model": "a"}, "debounceMs": 1}) == {"model": "a", "debounceMs": 1}
    assert unwrap(None) == {} and unwrap([1]) == {}
