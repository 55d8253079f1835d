"""The foundation commands: --version, whoami, models, usage errors, exit codes."""

from __future__ import annotations

import json

import pytest

from tui.cli.main import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("bedrock-tune ")


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli.commands import COMMANDS

    for name in COMMANDS:
        with pytest.raises(SystemExit) as caught:
            main([name, "--help"])
        assert caught.value.code == 0, name
        assert name in capsys.readouterr().out


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["models", "--type", "pretraining"])
    assert caught.value.code == 2
    assert "--help" in capsys.readouterr().err


def test_whoami_without_credentials_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whoami"]) == 2
    err = capsys.readouterr().err
    assert "No AWS credentials" in err
    assert "aws configure" in err


def test_whoami_in_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whoami", "--sandbox", "--region", "us-west-2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["account"] == "123456789012"
    assert data["region"] == "us-west-2"
    assert data["customization_supported"] is True
    assert data["endpoint_url"].startswith("http://127.0.0.1:")


REQUIRED = {
    "anthropic.claude-3-haiku-20240307-v1:0:200k",
    "amazon.nova-micro-v1:0:128k",
    "amazon.nova-lite-v1:0:300k",
    "amazon.nova-pro-v1:0:300k",
    "amazon.nova-2-lite-v1:0:256k",
    "meta.llama3-1-8b-instruct-v1:0:128k",
    "meta.llama3-1-70b-instruct-v1:0:128k",
    "meta.llama3-2-1b-instruct-v1:0:128k",
    "meta.llama3-2-3b-instruct-v1:0:128k",
    "meta.llama3-2-11b-instruct-v1:0:128k",
    "meta.llama3-2-90b-instruct-v1:0:128k",
    "meta.llama3-3-70b-instruct-v1:0:128k",
    "amazon.titan-text-express-v1:0:8k",
    "amazon.titan-text-lite-v1:0:4k",
    "cohere.command-light-text-v14:7:4k",
}


def test_models_json_in_the_sandbox_us_west_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--sandbox", "models", "--region", "us-west-2", "--json"]) == 0
    captured = capsys.readouterr()
    models = {m["id"]: m for m in json.loads(captured.out)}
    assert set(models) >= REQUIRED
    assert captured.err == ""  # the live list answered
    nova = models["amazon.nova-micro-v1:0:128k"]
    assert nova["available"] is False
    # Haiku, the first walkthrough's model: the sandbox's Price List has its training price.
    haiku = models["anthropic.claude-3-haiku-20240307-v1:0:200k"]["prices"]
    assert haiku["source"] == "price-list-api" and haiku["training_per_1k_tokens"] == 0.002
    assert nova["regions"] == ["us-east-1"]
    assert "us-east-1" in nova["availability_reason"]
    llama = models["meta.llama3-1-8b-instruct-v1:0:128k"]
    assert llama["available"] is True and llama["availability_basis"] == "live"
    assert (llama["lifecycle"], llama["end_of_life"]) == ("active", None)
    # Listed by the region, but past its end of life there: shown, never available.
    haiku = models["anthropic.claude-3-haiku-20240307-v1:0:200k"]
    assert haiku["available"] is False and haiku["availability_basis"] == "live"
    assert (haiku["lifecycle"], haiku["end_of_life"]) == ("end-of-life", "2026-09-10")
    assert "amazon.nova-2-lite-v1:0:256k" in haiku["instead"]
    assert haiku["provider"] and haiku["name"]
    assert haiku["customization_types"] == ["fine-tuning"]
    tuning = haiku["customizations"][0]
    assert tuning["limits"]["max_tokens_per_record"] == 32000
    epochs = next(h for h in tuning["hyperparameters"] if h["name"] == "epochCount")
    assert (epochs["min"], epochs["max"], epochs["default"]) == (1, 10, 2)
    titan = models["amazon.titan-text-express-v1:0:8k"]
    assert set(titan["customization_types"]) == {"fine-tuning", "continued-pre-training"}
    assert (titan["lifecycle"], titan["end_of_life"]) == ("legacy", None)


def test_models_filter_by_type(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--offline", "--type", "continued-pre-training", "--json"]) == 0
    ids = {m["id"] for m in json.loads(capsys.readouterr().out)}
    assert ids == {"amazon.titan-text-express-v1:0:8k", "amazon.titan-text-lite-v1:0:4k"}


def test_models_without_credentials_falls_back_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["models", "--region", "us-east-1"]) == 0
    captured = capsys.readouterr()
    assert "built-in catalog" in captured.err
    assert "Nova Micro" in captured.out
    assert "not offered in us-east-1" in captured.out  # Haiku and Llama are us-west-2 only
    nova = next(line for line in captured.out.splitlines() if "amazon.nova-micro" in line)
    assert "$0.001 (built-in, 2025-07-20)" in nova  # the source and date of each price


def test_the_shared_sandbox_status_and_stop(capsys: pytest.CaptureFixture[str]) -> None:
    from core.sandbox.background import SandboxHome, ThreadStarter
    from core.state_dir import state_dir

    assert main(["sandbox", "--status"]) == 0
    assert "No shared sandbox is running" in capsys.readouterr().out
    lease = SandboxHome(state_dir(), ThreadStarter()).ensure()
    assert lease is not None
    lease.release()
    assert main(["sandbox", "--status"]) == 0
    assert f"runs at {lease.info.endpoint_url}" in capsys.readouterr().out
    assert main(["sandbox", "--stop"]) == 0
    assert "Stopped the shared sandbox" in capsys.readouterr().out
    assert SandboxHome(state_dir()).running() is None
