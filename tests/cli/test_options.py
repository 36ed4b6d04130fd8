"""Every numeric option of every command refuses NaN, infinities and out-of-range values with
one line ``spacetime: error: ...`` and exit 2, before any work (nothing is read or written)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from helpers import run_cli
from spacetime.cli.options import FPS, GUIDANCE, SEED, Number, integer

# (command line up to the option, option) for every numeric option; the values below are
# checked while the arguments are parsed, so the files named here need not exist.
GEN = ["generate", "a red circle", "--out", "{tmp}/o.mp4"]
OPTIONS = [
    *[(GEN, o) for o in ("--frames", "--size", "--steps", "--guidance", "--seed", "--num")],
    *[(GEN, o) for o in ("--fps", "--batch-size")],
    *[(["demo", "--out", "{tmp}/d"], o) for o in ("--steps", "--guidance", "--size")],
    *[(["demo", "--out", "{tmp}/d"], o) for o in ("--frames", "--seed")],
    *[(["shapes", "--out", "{tmp}/s"], o) for o in ("--n", "--size", "--frames", "--seed")],
    *[(["shapes", "--out", "{tmp}/s"], o) for o in ("--fps", "--objects")],
    (["eval", "{tmp}/v.mp4"], "--max-frames"),
    (["eval", "{tmp}/v.mp4"], "--size"),
    (["compare", "{tmp}/a", "{tmp}/b"], "--frozen-threshold"),
    (["train", "--preset", "shapes-tiny", "--dry-run"], "--steps"),
    (["train", "--preset", "shapes-tiny", "--dry-run"], "--seed"),
    *[(["train-autoencoder", "--dry-run"], o) for o in ("--steps", "--batch-size", "--seed")],
    (["autoencode", "{tmp}/v.mp4", "--checkpoint", "{tmp}/ae"], "--max-frames"),
    (["autoencode", "{tmp}/v.mp4", "--checkpoint", "{tmp}/ae"], "--chunk-size"),
]


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "1e12"])
@pytest.mark.parametrize(("command", "option"), OPTIONS, ids=lambda x: " ".join(x)[:20])
def test_bad_numbers_are_one_line_errors(
    command: list[str], option: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = [a.format(tmp=tmp_path) for a in command] + [option, value]
    code, out, err = run_cli(argv, capsys)
    assert code == 2, (argv, out, err)
    assert err.startswith(f"spacetime: error: Invalid value for '{option}': {value} is not")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # nothing was written


@pytest.mark.parametrize(
    ("command", "item", "key"),
    [("train --preset shapes-tiny", "optim.lr=.nan", "optim.lr"),
     ("train --preset shapes-tiny", "optim.lr=inf", "optim.lr"),
     ("train --preset shapes-tiny", "optim.betas=[0.9, .nan]", "optim.betas[1]"),
     ("train --preset shapes-tiny", "objective.options.shift=-.inf", "objective.options.shift"),
     ("train --preset shapes-tiny", "sample_guidance=nan", "sample_guidance"),
     ("train-autoencoder", "kl_weight=.nan", "kl_weight"),
     ("train-autoencoder", "ema_decay=-.inf", "ema_decay")],
)  # fmt: skip
def test_set_refuses_non_finite_numbers(
    command: str, item: str, key: str, capsys: pytest.CaptureFixture
) -> None:
    code, _, err = run_cli([*command.split(), "--dry-run", "--set", item], capsys)
    assert code == 2
    assert err.startswith(f"spacetime: error: --set {item}: {key} must be a finite number, got")
    assert err.count("\n") == 1


def test_out_of_range_set_values_are_one_line_errors(capsys: pytest.CaptureFixture) -> None:
    for item, message in [
        ("optim.lr=-1", "optim.lr must be > 0, got -1.0"),
        ("data.frames=0", "data.frames must be >= 1, got 0"),
        ("ema_decay=1.5", "ema_decay must be in [0, 1], got 1.5"),
        ("seed=-3", "seed must be >= 0, got -3"),
    ]:
        code, _, err = run_cli(
            ["train", "--preset", "shapes-tiny", "--dry-run", "--set", item], capsys
        )
        assert code == 2 and err == f"spacetime: error: {message}\n"


def test_number_parser_ranges() -> None:
    assert GUIDANCE("0") == 0.0 and GUIDANCE("7.5") == 7.5 and SEED("0") == 0
    assert FPS("0.5") == 0.5 and integer(2, 4)("4") == 4
    for parser, text, why in [
        (FPS, "0", "0 is not in (0, 1000]"),
        (GUIDANCE, "101", "101 is not in [0, 100]"),
        (SEED, "2.5", "2.5 is not an integer"),
        (SEED, str(2**63), f"{2**63} is not in [0, {2**63 - 1}]"),
        (Number(), "nan", "nan is not a finite number"),
        (Number(), "x", "x is not a number"),
    ]:
        with pytest.raises(typer.BadParameter, match=f"^{why.replace('(', '.').replace('[', '.')}"):
            parser(text)
    assert integer(1).metavar == "INTEGER>=1" and FPS.metavar == "FLOAT 0..1000"
