"""Settings: camelCase on the wire, validation with messages, key and endpoint pairing."""

from __future__ import annotations

from fim_lsp.settings import (
    CODESTRAL_ENDPOINT,
    MISTRAL_ENDPOINT,
    Settings,
    explain_settings,
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
    # This machine (a local gateway, a test's mock) may have the environment's key.
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


def test_an_endpoint_from_the_settings_does_not_get_the_environments_key() -> None:
    env = {"MISTRAL_API_KEY": "m"}
    s, notes = parse_settings({"endpoint": "https://evil.example.com"}, env=env)
    assert s.api_key == "" and s.endpoint == "https://evil.example.com"
    assert len(notes) == 1 and "not sending MISTRAL_API_KEY to evil.example.com" in notes[0]


def test_an_endpoint_from_the_environment_gets_the_environments_key() -> None:
    env = {"MISTRAL_API_KEY": "m", "FIM_LSP_ENDPOINT": "https://gateway.example.com"}
    s, notes = parse_settings({}, env=env)
    assert (s.api_key, s.endpoint, notes) == ("m", "https://gateway.example.com", [])


def test_a_key_given_beside_the_endpoint_goes_there() -> None:
    s, notes = parse_settings(
        {"endpoint": "https://gateway.example.com", "apiKey": "g"}, env={"MISTRAL_API_KEY": "m"}
    )
    assert (s.api_key, notes) == ("g", [])


def test_the_mistral_hosts_get_the_environments_keys_from_the_settings() -> None:
    env = {"CODESTRAL_API_KEY": "c"}
    s, notes = parse_settings({"endpoint": MISTRAL_ENDPOINT}, env=env)
    assert (s.api_key, notes) == ("c", [])


def test_no_key_over_plain_http_to_another_machine() -> None:
    s, notes = parse_settings(
        {"backend": "openai", "endpoint": "http://10.1.2.3:8000", "apiKey": "sk-x"}, env={}
    )
    assert s.api_key == "" and len(notes) == 1
    assert "plain http://" in notes[0] and "10.1.2.3:8000" in notes[0] and "sk-x" not in notes[0]
    s, notes = parse_settings(
        {"backend": "openai", "endpoint": "https://10.1.2.3:8000", "apiKey": "sk-x"}, env={}
    )
    assert (s.api_key, notes) == ("sk-x", [])
    s, notes = parse_settings(
        {"backend": "ollama", "endpoint": "http://localhost:11434", "apiKey": "sk-x"}, env={}
    )
    assert (s.api_key, notes) == ("sk-x", [])


def test_local_backends_have_their_defaults_and_no_environment_key() -> None:
    env = {"MISTRAL_API_KEY": "m", "CODESTRAL_API_KEY": "c"}
    s, notes = parse_settings({"backend": "ollama"}, env=env)
    assert (s.endpoint, s.model, s.api_key, notes) == (
        "http://127.0.0.1:11434",
        "qwen2.5-coder:1.5b-base",
        "",
        [],
    )
    s, _ = parse_settings({"backend": "llamacpp"}, env=env)
    assert (s.endpoint, s.model) == ("http://127.0.0.1:8012", "")
    s, _ = parse_settings({"backend": "openai", "model": "Qwen/Qwen2.5-Coder-1.5B"}, env=env)
    assert (s.endpoint, s.model) == ("http://127.0.0.1:8000", "Qwen/Qwen2.5-Coder-1.5B")


def test_where_each_setting_came_from() -> None:
    _s, _p, origins = explain_settings({"model": "x"}, env={"MISTRAL_API_KEY": "m"})
    assert origins == {
        "backend": "default",
        "model": "settings",
        "endpoint": "default for MISTRAL_API_KEY",
        "api_key": "environment (MISTRAL_API_KEY)",
    }
    _s, _p, origins = explain_settings({}, env={"FIM_LSP_ENDPOINT": "https://g.example"})
    assert origins["endpoint"] == "environment (FIM_LSP_ENDPOINT)"


def test_new_settings_are_validated() -> None:
    s, problems = parse_settings(
        {
            "backend": "tgi",
            "template": "no slots",
            "topP": 2,
            "minTokens": -1,
            "randomSeed": "x",
            "caBundle": "/does/not/exist.pem",
            "headers": {"X-Team": 1},
            "stream": "no",
        },
        env={},
    )
    assert len(problems) == 8
    assert s.backend == "codestral" and s.template == "" and s.top_p is None
    s, problems = parse_settings(
        {
            "backend": "openai",
            "template": "<pre>{prefix}<suf>{suffix}<mid>",
            "topP": 0.9,
            "minTokens": 1,
            "randomSeed": 42,
            "headers": {"X-Team": "a"},
            "stream": False,
        },
        env={},
    )
    assert problems == []
    assert (s.template, s.top_p, s.min_tokens, s.random_seed, s.headers, s.stream) == (
        "<pre>{prefix}<suf>{suffix}<mid>",
        0.9,
        1,
        42,
        (("X-Team", "a"),),
        False,
    )
    for name in ("qwen", "starcoder", "deepseek", "codellama", "codestral", "codegemma"):
        assert parse_settings({"template": name}, env={})[1] == []


def test_credential_headers_stay_off_plain_http_to_another_machine() -> None:
    headers = {"X-Api-Token": "t0k", "X-Team": "blue"}
    s, notes = parse_settings(
        {"backend": "openai", "endpoint": "http://10.1.2.3:8000", "headers": headers}, env={}
    )
    assert s.headers == (("X-Team", "blue"),)
    assert len(notes) == 1 and "header X-Api-Token" in notes[0] and "t0k" not in notes[0]
    s, notes = parse_settings(
        {"backend": "openai", "endpoint": "http://127.0.0.1:8000", "headers": headers}, env={}
    )
    assert (s.headers, notes) == ((("X-Api-Token", "t0k"), ("X-Team", "blue")), [])


def test_read_on_lines_is_a_whole_number_from_0_to_100() -> None:
    assert parse_settings({"readOnLines": 0}, env={})[0].read_on_lines == 0
    assert parse_settings({"readOnLines": 100}, env={})[0].read_on_lines == 100
    for bad in (-1, 101, 2.5, "4", True):
        s, problems = parse_settings({"readOnLines": bad}, env={})
        assert s.read_on_lines == 4 and len(problems) == 1 and "readOnLines" in problems[0]


def test_the_host_said_in_messages_never_carries_a_urls_password() -> None:
    settings = Settings(endpoint="https://gateway:s3cret-Pw@llm.corp.net:8443/v1")
    assert settings.host == "llm.corp.net:8443"
    assert Settings(endpoint="http://127.0.0.1:11434").host == "127.0.0.1:11434"
