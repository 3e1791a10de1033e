"""Registry credentials from docker config / `.dockerconfigjson` documents."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gitops_action.adapters.docker_config import (
    Credentials,
    Keychain,
    config_key_host,
    docker_config_path,
    load_docker_config,
    parse_docker_config,
)
from gitops_action.domain.errors import ConfigError, InvalidDockerConfig

SECRET = "pa55-Word-hidden"


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def document(auths: dict[str, object], **extra: object) -> str:
    return json.dumps({"auths": auths, **extra})


def test_auth_field_and_username_password_fields() -> None:
    keychain = parse_docker_config(
        document(
            {
                "ghcr.io": {"auth": auth("octo", "tok:with:colons")},
                "registry.example.com": {"username": "bot", "password": SECRET},
            }
        ),
        "secret flux-system/regcred",
    )
    ghcr = keychain.lookup("ghcr.io")
    example = keychain.lookup("registry.example.com")
    assert ghcr == Credentials("octo", "tok:with:colons", "secret flux-system/regcred")
    assert example == Credentials("bot", SECRET, "secret flux-system/regcred")
    assert keychain.lookup("quay.io") is None


@pytest.mark.parametrize(
    "key",
    [
        "https://index.docker.io/v1/",
        "index.docker.io",
        "docker.io",
        "https://registry-1.docker.io",
        "registry-1.docker.io/v2/",
    ],
)
def test_docker_hub_keys(key: str) -> None:
    keychain = parse_docker_config(document({key: {"auth": auth("hub", SECRET)}}), "x")
    found = keychain.lookup("docker.io")
    assert found is not None
    assert found.username == "hub"


def test_the_historic_hub_key_wins_over_aliases() -> None:
    keychain = parse_docker_config(
        document(
            {
                "docker.io": {"auth": auth("alias", "a")},
                "https://index.docker.io/v1/": {"auth": auth("canonical", "c")},
            }
        ),
        "x",
    )
    found = keychain.lookup("docker.io")
    assert found is not None
    assert found.username == "canonical"


@pytest.mark.parametrize(
    "key",
    [
        "127.0.0.1:5000",
        "http://127.0.0.1:5000",
        "https://127.0.0.1:5000/",
        "https://127.0.0.1:5000/v2/",
        "HTTPS://127.0.0.1:5000/v1/",
    ],
)
def test_keys_with_or_without_scheme_and_path(key: str) -> None:
    keychain = parse_docker_config(document({key: {"auth": auth("u", "p")}}), "x")
    assert keychain.lookup("127.0.0.1:5000") is not None
    assert keychain.lookup("127.0.0.1:5001") is None
    assert keychain.lookup("docker.io") is None


def test_exact_key_wins_over_a_key_with_a_path() -> None:
    keychain = parse_docker_config(
        document(
            {
                "https://reg.example.com/v2/": {"auth": auth("path", "p")},
                "reg.example.com": {"auth": auth("exact", "e")},
            }
        ),
        "x",
    )
    found = keychain.lookup("reg.example.com")
    assert found is not None
    assert found.username == "exact"


def test_host_matching_ignores_case() -> None:
    assert config_key_host("https://Registry.Example.COM/v1/") == "registry.example.com"
    keychain = parse_docker_config(document({"Reg.Example.com": {"auth": auth("u", "p")}}), "x")
    assert keychain.lookup("reg.example.com") is not None


def test_credential_helpers_are_notices_not_errors() -> None:
    keychain = parse_docker_config(
        json.dumps(
            {
                "auths": {"ghcr.io": {}},
                "credsStore": "desktop",
                "credHelpers": {"123.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
            }
        ),
        "docker config /home/u/.docker/config.json",
    )
    assert keychain.lookup("ghcr.io") is None
    assert len(keychain.notices) == 2
    assert '"credsStore" (desktop) is not supported' in keychain.notices[0]
    assert "ecr-login" not in keychain.notices[1]
    assert "123.dkr.ecr.us-east-1.amazonaws.com" in keychain.notices[1]
    assert all("\n" not in notice for notice in keychain.notices)


def test_identity_tokens_are_noted_and_skipped() -> None:
    keychain = parse_docker_config(
        document({"myacr.azurecr.io": {"identitytoken": SECRET}}), "docker config c.json"
    )
    assert keychain.lookup("myacr.azurecr.io") is None
    assert keychain.notices == (
        'docker config c.json: entry "myacr.azurecr.io": identity/registry tokens are not '
        "supported; entry ignored",
    )


def test_legacy_dockercfg_shape_without_auths() -> None:
    keychain = parse_docker_config(
        json.dumps({"reg.example.com": {"auth": auth("old", "p"), "email": "a@b"}}), "x"
    )
    found = keychain.lookup("reg.example.com")
    assert found is not None
    assert found.username == "old"


def test_empty_documents_give_an_empty_keychain() -> None:
    assert parse_docker_config("{}", "x") == Keychain()
    assert parse_docker_config(document({}), "x").lookup("ghcr.io") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"auths": {"r.io": {"auth": "%s"}', "not valid JSON (line 1 column"),
        ("[]", "expected a JSON object"),
        ('{"auths": []}', '"auths" must be an object'),
        ('{"auths": {"r.io": "%s"}}', 'entry "r.io" must be an object'),
        ('{"auths": {"r.io": {"auth": "%s!!"}}}', '"auth" is not base64'),
        ('{"auths": {"r.io": {"username": 5}}}', '"username" must be a string'),
    ],
)
def test_bad_documents_name_the_source_and_never_the_secret(text: str, expected: str) -> None:
    encoded = auth("u", SECRET)
    with pytest.raises(InvalidDockerConfig) as caught:
        parse_docker_config(text.replace("%s", encoded), "secret ns/regcred")
    message = str(caught.value)
    assert isinstance(caught.value, ConfigError)
    assert message.startswith("secret ns/regcred: ")
    assert expected in message
    assert SECRET not in message
    assert encoded not in message


def test_auth_without_a_colon_is_refused() -> None:
    encoded = base64.b64encode(SECRET.encode()).decode()
    with pytest.raises(InvalidDockerConfig, match='no "user:password" pair') as caught:
        parse_docker_config(document({"r.io": {"auth": encoded}}), "x")
    assert SECRET not in str(caught.value)


def test_password_is_not_in_repr() -> None:
    credentials = Credentials("bot", SECRET, "secret ns/regcred")
    assert SECRET not in repr(credentials)
    assert SECRET not in str(Keychain((("r.io", credentials),)))
    assert credentials.describe() == 'user "bot" from secret ns/regcred'


def test_fallback_keychain_is_asked_for_hosts_the_first_lacks() -> None:
    secret = parse_docker_config(document({"ghcr.io": {"auth": auth("from-secret", "a")}}), "s")
    config = parse_docker_config(
        document(
            {"ghcr.io": {"auth": auth("from-config", "b")}, "quay.io": {"auth": auth("q", "c")}}
        ),
        "d",
    )
    chain = secret.with_fallback(config)
    ghcr, quay = chain.lookup("ghcr.io"), chain.lookup("quay.io")
    assert ghcr is not None and ghcr.username == "from-secret"
    assert quay is not None and quay.username == "q"
    assert chain.lookup("docker.io") is None


def write_config(directory: Path, username: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.json"
    path.write_text(document({"r.io": {"auth": auth(username, "p")}}))
    return path


def test_docker_config_env_first_then_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env_dir = tmp_path / "env"
    assert docker_config_path({"DOCKER_CONFIG": str(env_dir)}, home) is None
    assert load_docker_config({"DOCKER_CONFIG": str(env_dir)}, home) == Keychain()

    home_file = write_config(home / ".docker", "home-user")
    assert docker_config_path({"DOCKER_CONFIG": str(env_dir)}, home) == home_file
    assert docker_config_path({}, home) == home_file

    env_file = write_config(env_dir, "env-user")
    assert docker_config_path({"DOCKER_CONFIG": str(env_dir)}, home) == env_file
    keychain = load_docker_config({"DOCKER_CONFIG": str(env_dir)}, home)
    found = keychain.lookup("r.io")
    assert found == Credentials("env-user", "p", f"docker config {env_file}")


def test_a_directory_is_no_config_and_broken_json_is_a_config_error(tmp_path: Path) -> None:
    directory = tmp_path / "docker"
    (directory / "config.json").mkdir(parents=True)  # a directory where the file should be
    assert docker_config_path({"DOCKER_CONFIG": str(directory)}, tmp_path) is None
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(InvalidDockerConfig, match=r"docker config .*broken/config.json: not valid"):
        load_docker_config({"DOCKER_CONFIG": str(broken)}, tmp_path)
