"""Config loading: interpolation, .env, and problems that name the key path and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import ConfigError, Settings, load_settings

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "config.yaml"
SECRET = "0x" + "ab" * 32
ADDRESS = "0x" + "12" * 20


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def load(path: Path, env: dict[str, str] | None = None) -> Settings:
    return load_settings(path, env=env or {}, dotenv_path=path.parent / "none.env")


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path, env)
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i + 1 for i, line in enumerate(text.splitlines()) if needle in line)


def test_shipped_config_is_valid_with_an_empty_environment(tmp_path: Path) -> None:
    settings = load(REPO_CONFIG)
    assert settings.deployment.mode == "paper"
    assert settings.database.url == ""
    assert settings.risk.max_daily_loss == 0.10
    assert settings.generation.ai_providers["claude"].enabled is False


def test_model_defaults_equal_the_shipped_config() -> None:
    assert load(REPO_CONFIG) == Settings()


def test_variables_and_defaults_are_resolved(tmp_path: Path) -> None:
    path = write(tmp_path, 'database:\n  url: "${DB:-postgresql://localhost/x}"\nsystem:\n  name: "${NAME}"\n'
                           "monitoring:\n  api:\n    port: ${PORT:-9000}\n")
    settings = load(path, env={"NAME": "Mine"})
    assert settings.system.name == "Mine"
    assert settings.database.url == "postgresql://localhost/x"
    assert settings.monitoring.api.port == 9000
    settings = load(path, env={"NAME": "n", "DB": "postgresql://h/db", "PORT": "8123"})
    assert (settings.database.url, settings.monitoring.api.port) == ("postgresql://h/db", 8123)


def test_an_empty_variable_takes_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, 'system:\n  name: "${NAME:-fallback}"\n')
    assert load(path, env={"NAME": ""}).system.name == "fallback"


def test_double_dollar_keeps_a_literal_reference(tmp_path: Path) -> None:
    path = write(tmp_path, 'system:\n  name: "bot-$${NAME}-${X:-1}"\n')
    assert load(path, env={"NAME": "ignored"}).system.name == "bot-${NAME}-1"


def test_dotenv_fills_in_and_the_real_environment_wins(tmp_path: Path) -> None:
    path = write(tmp_path, 'system:\n  name: "${NAME}"\n  data_dir: "${DATA}"\n')
    dotenv = tmp_path / ".env"
    dotenv.write_text("NAME=from-file\nDATA=/file/data\n")
    settings = load_settings(path, env={"DATA": "/env/data"}, dotenv_path=dotenv)
    assert (settings.system.name, settings.system.data_dir) == ("from-file", "/env/data")


def test_dotenv_in_the_working_directory_is_read_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'system:\n  name: "${SIXBTC_TEST_NAME}"\n')
    (tmp_path / ".env").write_text("SIXBTC_TEST_NAME=from-cwd\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIXBTC_TEST_NAME", raising=False)
    assert load_settings(path).system.name == "from-cwd"
    monkeypatch.setenv("SIXBTC_TEST_NAME", "from-env")
    assert load_settings(path).system.name == "from-env"


def test_missing_variable_names_the_variable_the_key_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "system:\n  name: SixBTC\nhyperliquid:\n  main_address: ${HL_MAIN_ADDRESS}\n")
    assert problems(path) == ["hyperliquid.main_address: environment variable HL_MAIN_ADDRESS is not set (line 4)"]
    assert problems(path, env={"HL_MAIN_ADDRESS": ""}) == [
        "hyperliquid.main_address: environment variable HL_MAIN_ADDRESS is empty (line 4)"]


def test_malformed_reference_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, 'system:\n  name: "${1BAD}"\n  data_dir: "${UNCLOSED"\n')
    found = problems(path)
    assert [p.split(":")[0] for p in found] == ["system.name", "system.data_dir"]
    assert all("malformed variable reference" in p for p in found)


def test_out_of_range_and_wrong_type_and_unknown_key_are_all_reported(tmp_path: Path) -> None:
    text = REPO_CONFIG.read_text()
    text = text.replace("max_daily_loss: 0.10", "max_daily_loss: 1.5")
    text = text.replace("pool_size: 5", "pool_size: lots")
    text = text.replace("  leverage: 1", "  leverag: 1")
    found = problems(write(tmp_path, text))
    assert found == [
        f"database.pool_size: must be a valid integer, unable to parse string as an integer "
        f"(line {line_of(text, 'pool_size')})",
        f"trading.leverag: unknown key (check the spelling; see config/config.yaml for the valid keys) "
        f"(line {line_of(text, 'leverag')})",
        f"risk.max_daily_loss: must be between 0 and 1 (line {line_of(text, 'max_daily_loss')})",
    ]


def test_a_section_of_the_wrong_shape_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "system:\n  name: x\nrisk: 5\ntrading:\n  symbols: BTC\n")
    assert problems(path) == ["trading.symbols: must be a list (line 5)", "risk: must be a mapping of keys (line 3)"]


def test_list_items_and_mapping_keys_are_reported_at_their_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, f'trading:\n  timeframes:\n    - 1h\n    - 2h\nhyperliquid:\n  subaccounts:\n'
                           f'    1: "{ADDRESS}"\n    11: "{ADDRESS}"\n')
    assert problems(path) == [
        "hyperliquid.subaccounts.11: key must be a subaccount number from 1 to 10 (line 8)",
        "trading.timeframes.1: must be one of 5m, 15m, 30m, 1h, 4h, 1d (line 4)",
    ]


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "risk:\n  max_daily_loss: 0.1\n  max_daily_loss: 0.2\n")
    assert problems(path) == ["risk.max_daily_loss: duplicate key (first at line 2) (line 3)"]


def test_broken_yaml_is_one_problem_with_its_line(tmp_path: Path) -> None:
    (found,) = problems(write(tmp_path, "system:\n  name: SixBTC\nrisk: [oops\n"))
    assert found.startswith("config.yaml: invalid YAML:") and found.endswith("(line 4)")
    (found,) = problems(write(tmp_path, "system:\n  name: SixBTC\n   bad: indent\n"))
    assert found.startswith("config.yaml: invalid YAML:") and found.endswith("(line 3)")


def test_a_top_level_that_is_not_a_mapping_is_reported(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "- a\n- b\n"))
    assert found == ["config.yaml: the top level must be a mapping of sections (line 1)"]


def test_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    (found,) = problems(tmp_path / "absent.yaml")
    assert "absent.yaml: cannot read config file" in found


def test_secrets_never_appear_in_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "hyperliquid:\n  base_url: [\"${HL_PRIVATE_KEY}\"]\n"
                           "  main_address: ${HL_PRIVATE_KEY}\n  subaccounts: {1: \"${HL_PRIVATE_KEY}\"}\n"
                           "risk:\n  max_daily_loss: ${HL_PRIVATE_KEY}\n"
                           "trading:\n  timeframes: [\"${HL_PRIVATE_KEY}\"]\n  symbols: {\"${HL_PRIVATE_KEY}\": 1}\n"
                           "deployment:\n  mode: ${HL_PRIVATE_KEY}\nsystem:\n  timezone: ${HL_PRIVATE_KEY}\n"
                           "generation:\n  ai_providers:\n    claude:\n      model: m\n"
                           "      api_key: [\"${HL_PRIVATE_KEY}\"]\n")
    found = problems(path, env={"HL_PRIVATE_KEY": SECRET})
    paths = {p.split(":")[0] for p in found}
    assert paths == {"hyperliquid.base_url", "hyperliquid.main_address", "hyperliquid.subaccounts.1",
                     "risk.max_daily_loss", "trading.timeframes.0", "trading.symbols", "deployment.mode",
                     "system.timezone", "generation.ai_providers.claude.api_key"}
    joined = "\n".join(found)
    assert "abab" not in joined and SECRET not in joined


def test_the_old_mode_key_names_the_new_one(tmp_path: Path) -> None:
    path = write(tmp_path, "system:\n  name: SixBTC\n  deployment_mode: live\n")
    assert problems(path) == ["system.deployment_mode: has moved: set deployment.mode (paper | live) instead (line 3)"]
    assert load(write(tmp_path, "deployment:\n  mode: live\n")).deployment.mode == "live"


def test_a_key_in_the_config_file_is_refused_in_favour_of_the_environment(tmp_path: Path) -> None:
    """The signing key is read only from HL_PRIVATE_KEY: a config that still sets it is an error."""
    path = write(tmp_path, "hyperliquid:\n  fee_rate: 0.0004\n  private_key: ${HL_PRIVATE_KEY:-}\n")
    for env in ({}, {"HL_PRIVATE_KEY": SECRET}):
        (found,) = problems(path, env=env)
        assert found.startswith("hyperliquid.private_key: is not read from config") and found.endswith("(line 3)")
        assert "HL_PRIVATE_KEY environment variable" in found and SECRET not in found
    (found,) = problems(write(tmp_path, f"hyperliquid:\n  private_key: \"{SECRET}\"\n"))
    assert "HL_PRIVATE_KEY" in found and SECRET not in found and "abab" not in found


def test_cross_field_rules_point_at_the_key_to_change(tmp_path: Path) -> None:
    path = write(tmp_path, "risk:\n  risk_per_trade: 0.3\n  max_position_size: 0.2\n"
                           "pipeline:\n  runner: dask\n  dask_scheduler: ${SIXBTC_DASK_SCHEDULER:-}\n")
    assert problems(path) == [
        "risk.risk_per_trade: cannot exceed risk.max_position_size (line 2)",
        "pipeline.dask_scheduler: is required when pipeline.runner is dask; set SIXBTC_DASK_SCHEDULER (line 6)",
    ]


def test_safe_dump_masks_secrets_url_passwords_and_addresses(tmp_path: Path) -> None:
    path = write(tmp_path, "database:\n  url: postgresql://u:pw123@h/db\n"
                           f"hyperliquid:\n  main_address: ${{A}}\n  subaccounts: {{1: \"{ADDRESS}\"}}\n"
                           "generation:\n  ai_providers:\n    claude:\n      model: m\n      api_key: ${K}\n")
    settings = load(path, env={"K": SECRET, "A": "0x" + "34" * 20})
    dumped = settings.safe_dump()
    assert SECRET not in str(dumped) and "pw123" not in str(dumped) and SECRET not in repr(settings)
    assert dumped["generation"]["ai_providers"]["claude"]["api_key"] == "***"
    assert dumped["database"]["url"] == "postgresql://u:***@h/db"
    assert dumped["hyperliquid"]["main_address"] == "0x***3434"
    assert dumped["hyperliquid"]["subaccounts"] == {1: "0x***1212"}
    assert ADDRESS not in str(dumped) and "private_key" not in dumped["hyperliquid"]


def test_weights_must_sum_to_one(tmp_path: Path) -> None:
    path = write(tmp_path, "classification:\n  weights: {edge: 0.5, sharpe: 0.5, consistency: 0.5, stability: 0}\n")
    assert problems(path) == ["classification.weights: must sum to 1, they sum to 1.5 (line 2)"]


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValueError):
        settings.risk.max_daily_loss = 0.5  # type: ignore[misc]
