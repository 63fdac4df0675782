"""Golden cases: a YAML key its mapping already has."""

from pp_cursor import view

from fim_lsp.postprocess.keys import cut


def test_key_repeated_in_the_suggestion() -> None:
    v = view("env:\n  A: 1\n  █\n", "yaml")
    assert cut(["B: 2", "  B: 2", "  B: 2"], v) == 1


def test_key_the_document_has_below() -> None:
    v = view("web:\n  image: x\n  █\n  ports: []\n", "yaml")
    assert cut(["restart: always", "  ports:", "    - 80"], v) == 1


def test_keys_of_other_mappings_and_list_items_are_not_repeats() -> None:
    v = view("a:\n  name: x\nb:\n  █\n", "yaml")
    assert cut(["name: y"], v) is None
    v = view("items:\n  - name: a\n    size: 1\n  █\n", "yaml")
    assert cut(["- name: b", "    size: 2"], v) is None


def test_only_yaml() -> None:
    assert cut(["a: 1", "a: 1"], view("█", "python")) is None


def test_a_new_yaml_document_starts_new_keys() -> None:
    v = view("apiVersion: v1\nkind: Service\n---\n█\n", "yaml")
    assert cut(["apiVersion: apps/v1", "kind: Deployment"], v) is None
