"""Secrets in text sent to a model: every shape masked in several languages, ordinary code untouched, fast."""

from __future__ import annotations

import random
import statistics
import string
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fim_lsp import secrets
from fim_lsp.context import slice_context
from fim_lsp.secrets import PLACEHOLDER, contains_placeholder, find_secrets, mask, mask_split

AWS_ID = "AKIAZ7Q3LQ4XWJ2RB6PN"
AWS_SECRET = "q8Vd2kLx9/Tz4RmWp7sN+bY3cHf6GjK0aE5uQ1oZ"
GHP = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
GH_PAT = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV12"
GLPAT = "glpat-" + "x7Kq2Lm9Np4Rt6Vw8Yz1"
SLACK = "xoxb-" + "2740123456789-4411223344556-Q7wErTyUiOp1AsDfGhJkL2zX"
STRIPE = "sk_live_" + "51H8aBcDeFgHiJkLmNoPqRsT2uVwXyZ"
OPENAI = "sk-proj-" + "Xq7Lm2Np9Rt4Vw6Yz1Bc3Df5Gh8Jk0Mn"
GOOGLE = "AIza" + "SyD3x8Kq2Lm9Np4Rt6Vw8Yz1Bc3Df5Gh7J"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PASSWORD = "Tr0ub4dor&3x"
RANDOM = "Zq8Xv2Lm9Pw4Rt7Yn3Bk6Hs1Jd5Gf0Ac"
PEM_BODY = [
    "MIIEowIBAAKCAQEAx4Gq2x8dLw1Q9aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
    "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789+/aBcDeFgHiJkLmNoPqRsTuVwXy",
    "Zx4Gq2x8dLw1Q9a==",
]
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END RSA PRIVATE KEY-----\n"
)


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no registered key and an empty line cache."""
    monkeypatch.setattr(secrets, "_known", secrets._Known())
    secrets.clear_cache()
    yield
    secrets.clear_cache()


CASES = [
    # (language, code, the secret in it)
    ("python", f'aws_access_key_id = "{AWS_ID}"\n', AWS_ID),
    ("python", f'AWS_SECRET_ACCESS_KEY = "{AWS_SECRET}"\n', AWS_SECRET),
    ("python", f'client = Github("{GHP}")\n', GHP),
    ("python", f'openai.api_key = "{OPENAI}"\n', OPENAI),
    ("python", f'stripe.api_key = "{STRIPE}"\n', STRIPE),
    ("python", f'DATABASES = {{"default": {{"PASSWORD": "{PASSWORD}"}}}}\n', PASSWORD),
    ("python", f'password: str = "{PASSWORD}"\n', PASSWORD),
    ("python", f"headers = {{'Authorization': 'Bearer {JWT}'}}\n", JWT),
    ("python", f'KEY = b"{RANDOM}"\n', RANDOM),
    ("javascript", f"const token = '{GH_PAT}';\n", GH_PAT),
    ("javascript", f"fetch(url, {{ headers: {{ 'X-Api-Key': `{GOOGLE}` }} }});\n", GOOGLE),
    ("javascript", f'const slack = new WebClient("{SLACK}");\n', SLACK),
    ("typescript", f'const config: Config = {{ apiKey: "{OPENAI}", retries: 3 }};\n', OPENAI),
    ("typescript", f'this.secret = "{PASSWORD}";\n', PASSWORD),
    ("go", f'const awsKey = "{AWS_ID}"\n', AWS_ID),
    ("go", f'password := "{PASSWORD}"\n', PASSWORD),
    ("go", f'client := gitlab.NewClient("{GLPAT}")\n', GLPAT),
    ("go", f"var jwtToken = `{JWT}`\n", JWT),
    ("yaml", f"aws:\n  secret_access_key: {AWS_SECRET}\n  region: eu-west-1\n", AWS_SECRET),
    ("yaml", f"gitlab:\n  token: {GLPAT}\n", GLPAT),
    ("yaml", f'db:\n  password: "{PASSWORD}"\n', PASSWORD),
    ("yaml", f"slack_webhook_token: '{SLACK}'\n", SLACK),
    ("shellscript", f"export GITHUB_TOKEN={GHP}\n", GHP),
    ("shellscript", f'curl -H "Authorization: token {GHP}" https://api.github.com\n', GHP),
    ("shellscript", f"DB_PASSWORD={PASSWORD}x9 ./run.sh\n", None),  # not at end of line: left
    ("shellscript", f"export DB_PASSWORD='{PASSWORD}'\n", PASSWORD),
    ("json", f'{{"apiKey": "{GOOGLE}", "name": "demo"}}\n', GOOGLE),
    ("json", f'{{"stripe": {{"secret_key": "{STRIPE}"}}}}\n', STRIPE),
    ("json", f'{{"token": "{JWT}"}}\n', JWT),
    ("json", f'{{"aws_secret_access_key": "{AWS_SECRET}"}}\n', AWS_SECRET),
    # A URL's password: connection strings, brokers, git remotes, proxies.
    ("python", 'DATABASE_URL = "postgres://admin:Zq8pL2mW7x@db.internal:5432/app"\n', "Zq8pL2mW7x"),
    ("javascript", 'createClient({ url: "redis://:Zx9pLq2mW7@cache:6379/0" });\n', "Zx9pLq2mW7"),
    ("yaml", "celery:\n  broker_url: amqp://app:Tr0ub4dor3@mq:5672//\n", "Tr0ub4dor3"),
    ("shellscript", "git clone https://ci:c1-d3pl0y@git.corp.net/app.git\n", "c1-d3pl0y"),
    ("dotenv", "MONGO_URI=mongodb+srv://svc:n0t%40guessable@cluster0.net/db\n", "n0t%40guessable"),
]


def _quotes(text: str) -> tuple[int, int, int]:
    return text.count('"'), text.count("'"), text.count("`")


@pytest.mark.parametrize(("language", "code", "secret"), CASES)
def test_every_shape_is_masked_in_every_language(language: str, code: str, secret: str | None):
    masked = mask(code)
    if secret is None:
        return
    assert secret not in masked, language
    assert PLACEHOLDER in masked
    # Only the secret changed: the quotes, brackets and lines around it are the same.
    assert _quotes(masked) == _quotes(code)
    assert masked.count("\n") == code.count("\n")
    for bracket in "()[]{}":
        assert masked.count(bracket) == code.count(bracket)
    assert masked.replace(PLACEHOLDER, secret) == code


def test_a_private_key_block_keeps_its_lines_and_loses_its_body():
    code = 'KEY = """\n' + PEM + '"""\nprint(KEY)\n'
    masked = mask(code)
    assert not any(line in masked for line in PEM_BODY)
    assert "-----BEGIN RSA PRIVATE KEY-----" in masked and "-----END RSA PRIVATE KEY-----" in masked
    assert masked.count("\n") == code.count("\n")
    assert masked.endswith('"""\nprint(KEY)\n')


def test_a_private_key_in_a_json_string_with_escaped_newlines_is_masked():
    body = "\\n".join(PEM_BODY)
    code = (
        '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n'
        + body
        + '\\n-----END PRIVATE KEY-----\\n", "client_email": "a@b.iam.gserviceaccount.com"}'
    )
    masked = mask(code)
    assert not any(line in masked for line in PEM_BODY)
    assert '"client_email": "a@b.iam.gserviceaccount.com"}' in masked
    assert _quotes(masked) == _quotes(code)


def test_a_window_that_starts_inside_a_private_key_still_masks_it():
    window = "\n".join(PEM_BODY[1:]) + "\n-----END RSA PRIVATE KEY-----\nnext = 1\n"
    masked = mask(window)
    assert not any(line in masked for line in PEM_BODY[1:])
    assert masked.endswith("-----END RSA PRIVATE KEY-----\nnext = 1\n")


def test_a_window_cut_inside_a_private_key_masks_to_its_end():
    window = "x = 1\n-----BEGIN OPENSSH PRIVATE KEY-----\n" + PEM_BODY[0] + "\n" + PEM_BODY[1][:30]
    masked = mask(window)
    assert PEM_BODY[0] not in masked and PEM_BODY[1][:30] not in masked
    assert masked.startswith("x = 1\n-----BEGIN OPENSSH PRIVATE KEY-----\n")


def test_code_that_handles_pem_markers_is_not_a_key():
    code = (
        'BEGIN = "-----BEGIN RSA PRIVATE KEY-----"\n'
        "def readPrivateKeyFromConfiguration(lines):\n"
        "    collectingBase64Lines = False\n"
        "    for line in lines:\n"
        "        if line == BEGIN: collectingBase64Lines = True\n"
        'END = "-----END RSA PRIVATE KEY-----"\n'
    )
    assert mask(code) == code
    assert mask(code.split("END =")[0]) == code.split("END =")[0]
    assert mask("x = 1\n" + code.split("\n", 1)[1]) == "x = 1\n" + code.split("\n", 1)[1]


def test_private_key_lines_in_concatenated_string_literals_are_masked():
    code = (
        "KEY = (\n"
        '    "-----BEGIN PRIVATE KEY-----\\n"\n'
        + "".join(f'    "{line}\\n"\n' for line in PEM_BODY)
        + '    "-----END PRIVATE KEY-----\\n"\n)\n'
    )
    masked = mask(code)
    assert not any(line in masked for line in PEM_BODY)
    assert _quotes(masked) == _quotes(code)
    # A window that holds only the END half of it.
    tail = code[code.index(PEM_BODY[1]) :]
    assert PEM_BODY[1] not in mask(tail) and PEM_BODY[2] not in mask(tail)
    # And one that stops before END.
    head = code[: code.index(PEM_BODY[2])]
    assert PEM_BODY[0] not in mask(head) and PEM_BODY[1] not in mask(head)


ORDINARY = [
    "def token(self):\n    return self._token\n",
    'if token == "(":\n    depth += 1\n',
    'tok = Token("NAME", value)\nTOKEN_TYPE = "identifier"\n',
    'password = getpass.getpass("Password: ")\n',
    'password = os.environ["DB_PASSWORD"]\n',
    "secret_key = settings.SECRET_KEY\n",
    'api_key = ""\napi_key = None\n',
    'password = "changeme"\nsecret = "secret"\n',
    'TOKEN_URL = "https://oauth2.googleapis.com/token"\n',
    'token_path = "/var/run/secrets/token"\n',
    'const passwordInput = document.querySelector("input[type=password]");\n',
    "const { token } = await login(user, pass);\n",
    'export const SIGNIN_TOKEN = "/oauth2/v2.0/token";\n',
    'digest = "d41d8cd98f00b204e9800998ecf8427e"\n',
    'sha = "3b18e512dba79e4c8300dd08aeb37f8e728b8dad"\n',
    'id = "123e4567-e89b-12d3-a456-426614174000"\n',
    'name = "getElementsByClassNameAndTagName"\n',
    'msg = "Only_output_d_ts_files_and_not_JavaScript_files_6623"\n',
    'integrity = "sha512-Pq7Lm2Np9Rt4Vw6Yz1Bc3Df5Gh8Jk0MnXq7Lm2Np9Rt4Vw6Yz1Bc3Df5Gh8Jk0Mn"\n',
    'path = "src/components/UserProfileCard/index.tsx"\n',
    "risk-free-rate-calculator-module-v2 = 1\n",
    "task_key = 'process-payments-nightly'\n",
    'password: ${{ secrets.DB_PASSWORD }}\ntoken: "{{ .Values.token }}"\n',
    'key := "content-type"\nauthKey := "%s:%s"\n',
    "func (t *Tokenizer) Next() Token {\n\treturn t.tokens[t.pos]\n}\n",
    "kubectl get secret my-secret -o yaml\n",
    "# password must be at least 8 characters\n",
    '{"name": "left-pad", "version": "1.3.0", "main": "index.js"}\n',
    # URLs with no password in them, or only where one goes.
    'url = f"postgresql://{user}:{password}@{host}/{db}"\n',
    'DSN = "postgres://app:${DB_PASSWORD}@db/app"\n',
    'proxy = "http://user:pass@proxy.local:3128"\n',
    'remote = "ssh://git@github.com/org/repo.git"\n',
    'health = "http://[::1]:8080/health"\n',
    'link = "https://example.org/a@b"  # mailto:bob@example.org\n',
    'url = "http://user:@host/"\n',
]


@pytest.mark.parametrize("code", ORDINARY)
def test_ordinary_code_is_left_alone(code: str):
    assert find_secrets(code) == []
    assert mask(code) == code


def test_random_keys_are_found_and_words_are_not():
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits
    keys = ["".join(rng.choice(alphabet) for _ in range(40)) for _ in range(300)]
    found = sum(bool(find_secrets(f'key = "{k}"\nx = "{k}"\n')) for k in keys)
    assert found / len(keys) > 0.95
    words = Path(string.__file__).read_text(encoding="utf-8")
    assert [f for f in find_secrets(words) if f.kind == "random-literal"] == []


def test_the_servers_own_key_is_masked_raw_and_escaped_even_in_a_mistral_shaped_key():
    key = "Zt1q" + "8HdK2mWx7Lp0Vb4N" + "rS9cQe3Yu6Ai5Fg"
    assert mask(f'MISTRAL_KEY = "{key}"') != f'MISTRAL_KEY = "{key}"'  # random-looking anyway
    plain = "a" * 12 + "-plain-key-" + "b" * 12
    code = f"cfg = {{'k': '{plain}'}}\n"
    assert mask(code) == code
    secrets.add_secret(plain)
    assert plain not in mask(code)
    quoted = "my\"odd'key\\0123"
    secrets.add_secret(quoted)
    escaped = quoted.replace("\\", "\\\\").replace('"', '\\"')
    assert "odd" not in mask(f'key = "{escaped}"\n')


def test_a_short_word_for_a_key_is_not_masked_in_code():
    secrets.add_secret("ollama")
    code = 'client = OpenAI(base_url=url, api_key="ollama")  # ollama needs no key\n'
    assert mask(code) == code


def test_registering_a_key_masks_lines_masked_before():
    plain = "c" * 10 + "-registered-" + "d" * 10
    code = f"value = '{plain}'\n"
    assert mask(code) == code  # now cached
    secrets.add_secret(plain)
    assert plain not in mask(code)


def test_a_secret_split_by_the_cursor_is_found_whole():
    code = f'api_key = "{OPENAI}"\nnext_line = 1\n'
    cut = code.index(OPENAI) + 12
    prefix, suffix = mask_split(code[:cut], code[cut:])
    assert OPENAI[:12] not in prefix and OPENAI[12:] not in suffix
    assert prefix.endswith(PLACEHOLDER)
    assert suffix == '"\nnext_line = 1\n'


def test_mask_split_without_secrets_changes_nothing_and_agrees_with_mask():
    prefix, suffix = "def f(x):\n    return ", "x + 1\n\nprint(f(2))\n"
    assert mask_split(prefix, suffix) == (prefix, suffix)
    code = f'a = 1\nb = "{GHP}"\nc = 2\nd = "{GLPAT}"\n'
    cut = code.index("c = 2")
    left, right = mask_split(code[:cut], code[cut:])
    assert left + right == mask(code)


def test_masking_is_idempotent_and_the_placeholder_is_spotted():
    code = "\n".join(c for _lang, c, _s in CASES)
    once = mask(code)
    assert mask(once) == once
    assert contains_placeholder(f"return {PLACEHOLDER}")
    assert not contains_placeholder("return redacted_value")


def test_masking_an_8kb_window_while_typing_costs_well_under_a_millisecond():
    source = Path(random.__file__).read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    line = len(lines) // 2
    timings = []
    for i in range(200):
        lines[line] = lines[line][:-1] + "abcdefghij"[i % 10] + "\n"
        ctx = slice_context(lines, line, len(lines[line]) - 1, 6000, 2000)
        started = time.perf_counter()
        mask_split(ctx.prompt, ctx.suffix)
        timings.append(time.perf_counter() - started)
    assert len(ctx.prompt) + len(ctx.suffix) > 7000
    assert statistics.median(timings) < 0.001
