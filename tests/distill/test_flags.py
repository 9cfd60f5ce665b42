"""run_distill.py flags: every shipped flagfile parses; contradictions are clear errors."""
import os

import pytest
from absl import flags

import run_distill

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def parse(monkeypatch):
    monkeypatch.chdir(ROOT)

    def _parse(*args):
        flags.FLAGS.unparse_flags()
        flags.FLAGS(["run_distill.py", *args])
        return run_distill.build_config()

    yield _parse
    flags.FLAGS.unparse_flags()


SHAPES = ("l6h256", "l6h384", "l12h384")


@pytest.mark.parametrize("path", [f"flags/{s}.cfg" for s in SHAPES]
                         + [f"flags/paper/{s}.cfg" for s in SHAPES])
def test_shipped_flagfiles_build_valid_configs(parse, path):
    config = parse(f"--flagfile={path}")
    assert config.stages
    name = os.path.basename(path)[:-len(".cfg")]
    assert config.student == name


def test_default_recipe(parse):
    config = parse("--flagfile=flags/l6h256.cfg")
    assert config.teacher == "minilm" and config.transfer_data == "builtin:python_docs"
    assert [s.name for s in config.stages] == ["representation", "logits"]
    assert config.output_dir == "outputs/l6h256"


def test_flag_file_round_trip(parse, tmp_path):
    config = parse("--flagfile=flags/l6h256.cfg", "--representation_steps=7")
    path = tmp_path / "flags.cfg"
    path.write_text(run_distill.flags_text())
    assert parse(f"--flagfile={path}") == config


@pytest.mark.parametrize("args, message", [
    (["--stages=representation,distill"], "valid stages"),
    (["--flagfile=flags/l6h256.cfg", "--logits_losses=pooled_cosine:1,hiden_cos:1"],
     "unknown loss 'hiden_cos'; valid losses"),
    (["--stages=representation", "--representation_losses="], "--representation_losses is empty"),
    (["--stages=representation", "--representation_losses=hidden_mse",
      "--representation_steps=5", "--labels_losses=labels_ce"], "--labels_losses is set"),
    (["--stages=representation", "--representation_losses=hidden_mse",
      "--representation_steps=5", "--representation_epochs=2"], "exactly one of steps"),
    (["--flagfile=flags/l6h256.cfg", "--tpu=grpc://10.0.0.2:8470", "--strategy=mirrored"],
     "use strategy=tpu"),
    (["--flagfile=flags/l6h256.cfg", "--strategy=tpu", "--precision=mixed_float16"],
     "mixed_bfloat16"),
    (["--flagfile=flags/l6h256.cfg", "--logits_patience=2", "--logits_eval_every=0"],
     "needs eval_every"),
    (["--flagfile=flags/l6h256.cfg", "--dev_fraction=0"], "no dev split"),
])
def test_contradictory_flags(parse, args, message):
    with pytest.raises(ValueError, match=message):
        parse(*args)
