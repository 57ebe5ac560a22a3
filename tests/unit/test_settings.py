"""Config loading: interpolation, .env, and problems that name the key path and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import ConfigError, load_settings

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "config.yaml"
SECRET = "0x" + "ab" * 32


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env=env or {}, dotenv_path=path.parent / "none.env")
    return [str(p) for p in caught.value.problems]


def test_shipped_config_is_valid_with_an_empty_environment(tmp_path: Path) -> None:
    settings = load_settings(REPO_CONFIG, env={}, dotenv_path=tmp_path / "none.env")
    assert settings.system.deployment_mode == "paper"
    assert settings.database.url == ""
    assert settings.risk.max_daily_loss == 0.10
    assert settings.generation.ai_providers["claude"].enabled is False


def test_variables_and_defaults_are_resolved(tmp_path: Path) -> None:
    path = write(tmp_path, 'database:\n  url: "${DB:-postgresql://localhost/x}"\nsystem:\n  name: "${NAME}"\n')
    settings = load_settings(path, env={"NAME": "Mine"}, dotenv_path=tmp_path / "none.env")
    assert settings.system.name == "Mine"
    assert settings.database.url == "postgresql://localhost/x"
    settings = load_settings(path, env={"NAME": "n", "DB": "postgresql://h/db"}, dotenv_path=tmp_path / "x")
    assert settings.database.url == "postgresql://h/db"


def test_dotenv_fills_in_and_the_real_environment_wins(tmp_path: Path) -> None:
    path = write(tmp_path, 'system:\n  name: "${NAME}"\n  data_dir: "${DATA}"\n')
    dotenv = tmp_path / ".env"
    dotenv.write_text("NAME=from-file\nDATA=/file/data\n")
    settings = load_settings(path, env={"DATA": "/env/data"}, dotenv_path=dotenv)
    assert (settings.system.name, settings.system.data_dir) == ("from-file", "/env/data")


def test_missing_variable_names_the_variable_the_key_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "system:\n  name: SixBTC\nhyperliquid:\n  main_address: ${HL_MAIN_ADDRESS}\n")
    assert problems(path) == ["hyperliquid.main_address: environment variable HL_MAIN_ADDRESS is not set (line 4)"]


def test_out_of_range_and_wrong_type_and_unknown_key_are_all_reported(tmp_path: Path) -> None:
    text = REPO_CONFIG.read_text()
    text = text.replace("max_daily_loss: 0.10", "max_daily_loss: 1.5")
    text = text.replace("pool_size: 5", "pool_size: lots")
    text = text.replace("  leverage: 1", "  leverag: 1")
    lines = text.splitlines()
    line_of = {key: next(i + 1 for i, ln in enumerate(lines) if key in ln)
               for key in ("max_daily_loss", "pool_size", "leverag")}
    found = problems(write(tmp_path, text))
    assert f"risk.max_daily_loss: must be between 0 and 1 (line {line_of['max_daily_loss']})" in found
    assert any(p.startswith("database.pool_size: must be a valid integer") and f"line {line_of['pool_size']}" in p
               for p in found)
    assert any(p.startswith("trading.leverag: unknown key") for p in found)
    assert len(found) == 3


def test_broken_yaml_is_one_problem_with_its_line(tmp_path: Path) -> None:
    (found,) = problems(write(tmp_path, "system:\n  name: SixBTC\nrisk: [oops\n"))
    assert "invalid YAML" in found and "line" in found


def test_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    (found,) = problems(tmp_path / "absent.yaml")
    assert "cannot read config file" in found


def test_secrets_never_appear_in_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "hyperliquid:\n  private_key: ${HL_PRIVATE_KEY}\n  subaccounts: {1: \"${HL_PRIVATE_KEY}\"}\n"
                           "risk:\n  max_daily_loss: ${HL_PRIVATE_KEY}\n")
    found = "\n".join(problems(path, env={"HL_PRIVATE_KEY": SECRET}))
    assert "risk.max_daily_loss" in found and "hyperliquid.subaccounts" in found
    assert SECRET not in found and "abab" not in found


def test_live_mode_without_a_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "system:\n  deployment_mode: live\nhyperliquid:\n  private_key: ${HL_PRIVATE_KEY:-}\n")
    (found,) = problems(path)
    assert "HL_PRIVATE_KEY" in found
    settings = load_settings(path, env={"HL_PRIVATE_KEY": SECRET}, dotenv_path=tmp_path / "none.env")
    assert settings.hyperliquid.private_key.get_secret_value() == SECRET


def test_safe_dump_masks_secrets_and_url_passwords(tmp_path: Path) -> None:
    path = write(tmp_path, "database:\n  url: postgresql://u:pw123@h/db\nhyperliquid:\n  private_key: ${K}\n")
    dumped = str(load_settings(path, env={"K": SECRET}, dotenv_path=tmp_path / "none.env").safe_dump())
    assert SECRET not in dumped and "pw123" not in dumped and "***" in dumped


def test_weights_must_sum_to_one(tmp_path: Path) -> None:
    path = write(tmp_path, "classification:\n  weights: {edge: 0.5, sharpe: 0.5, consistency: 0.5, stability: 0}\n")
    (found,) = problems(path)
    assert found.startswith("classification.weights: weights must sum to 1") and "line 2" in found
