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
    # The paper recipes distil on MNLI pairs, which score the units themselves.
    assert config.importance_extra_data == (
        () if "paper" in path else ("builtin:wikipedia_pairs",))


def test_default_recipe(parse):
    config = parse("--flagfile=flags/l6h256.cfg")
    assert config.teacher == "minilm" and config.transfer_data == "builtin:wikipedia"
    assert [s.name for s in config.stages] == ["logits", "pairs"]
    assert config.student_init == "etd_impt" and config.etd_refit
    assert config.importance_extra_data == ("builtin:wikipedia_pairs",)
    assert dict(config.stages[0].losses) == {"pooled_similarity": 10.0, "pooled_cosine": 1.0}
    assert dict(config.stages[1].losses) == {"pair_score": 1.0}
    assert config.pair_data == "builtin:wikipedia_graded_pairs"
    assert config.stages[1].max_steps == 300 and config.stages[1].eval_every == 50
    assert config.output_dir == "outputs/l6h256"


def test_importance_extra_data_reaches_the_config_and_round_trips(parse):
    from xtremedistil_tf.distill.distill_config import DistillConfig

    config = parse("--flagfile=flags/l6h256.cfg",
                   "--importance_extra_data=builtin:wikipedia_pairs,extra.txt")
    assert config.importance_extra_data == ("builtin:wikipedia_pairs", "extra.txt")
    assert DistillConfig.from_dict(config.to_dict()) == config


def test_flag_file_round_trip(parse, tmp_path):
    config = parse("--flagfile=flags/l6h256.cfg", "--logits_max_steps=7")
    path = tmp_path / "flags.cfg"
    path.write_text(run_distill.flags_text())
    assert parse(f"--flagfile={path}") == config


@pytest.mark.parametrize("args, message", [
    (["--stages=representation,distill"], "valid stages"),
    (["--flagfile=flags/l6h256.cfg", "--logits_losses=pooled_cosine:1,hiden_cos:1"],
     "unknown loss 'hiden_cos'; valid losses"),
    (["--stages=representation", "--representation_losses="], "--representation_losses is empty"),
    (["--stages=representation", "--representation_losses=hidden_mse",
      "--representation_max_steps=5", "--labels_losses=labels_ce"], "--labels_losses is set"),
    (["--stages=representation", "--representation_losses=hidden_mse",
      "--representation_max_steps=5", "--representation_num_train_epochs=2"],
     "exactly one of max_steps"),
    (["--flagfile=flags/l6h256.cfg", "--tpu=grpc://10.0.0.2:8470", "--strategy=mirrored"],
     "use strategy=tpu"),
    (["--flagfile=flags/l6h256.cfg", "--strategy=tpu", "--precision=mixed_float16"],
     "mixed_bfloat16"),
    (["--flagfile=flags/l6h256.cfg", "--logits_patience=2", "--logits_eval_every=0"],
     "needs eval_every"),
    (["--flagfile=flags/l6h256.cfg", "--dev_fraction=0"], "no dev split"),
    (["--flagfile=flags/l6h256.cfg", "--output_dir=gs://bucket/run"],
     "set teacher_cache_dir to a local path"),
])
def test_contradictory_flags(parse, args, message):
    with pytest.raises(ValueError, match=message):
        parse(*args)


def test_task_transfer_recipe(parse):
    config = parse("--flagfile=flags/task_transfer.cfg", "--data_dir=../shared/data/glue")
    assert (config.source_task, config.teacher, config.teacher_finetune_epochs) == (
        "sst2", "minilm", 2)
    assert [s.name for s in config.stages] == ["representation", "logits", "labels"]
    assert [s.unfreeze for s in config.stages] == ["none", "gradual", "gradual"]
    assert config.stages[1].losses == (("logits_mse", 1.0),)
    assert config.student == "l6h256" and config.loss_settings.layer_map == "top7"
    with pytest.raises(ValueError, match="needs data_dir"):
        parse("--flagfile=flags/task_transfer.cfg")


def test_task_transfer_ner_recipe(parse):
    config = parse("--flagfile=flags/task_transfer_ner.cfg",
                   "--data_dir=../shared/data/conll2003")
    assert (config.source_task, config.data_source, config.data_dir) == (
        "conll2003", "local", "../shared/data/conll2003")
    assert (config.teacher, config.teacher_finetune_epochs, config.student_init) == (
        "minilm", 3, "etd_impt")
    assert (config.max_train_samples, config.max_eval_samples) == (2000, 1000)
    assert (config.teacher_cache, config.teacher_cache_dtype) == ("outputs", "float16")
    assert [(s.name, s.losses, s.unfreeze) for s in config.stages] == [
        ("representation", (("hidden_mse", 1.0),), "none"),
        ("logits", (("logits_mse", 1.0),), "gradual"),
        ("labels", (("labels_ce", 1.0),), "gradual")]
    assert config.output_dir == "outputs/task_transfer_ner"
    with pytest.raises(ValueError, match="needs data_dir"):
        parse("--flagfile=flags/task_transfer_ner.cfg")


@pytest.mark.parametrize("shape", SHAPES)
def test_paper_task_transfer_recipes(parse, shape):
    config = parse(f"--flagfile=flags/paper/xtremedistil_{shape}.cfg")
    assert config.student == shape
    assert (config.source_task, config.data_source, config.teacher) == (
        "mnli", "tfds", "bert-base-uncased")
    assert config.teacher_finetune_epochs == 3 and config.max_seq_length == 128
    assert config.transfer_data.startswith("tfds:") and config.augmentation_examples > 0
    assert [(s.name, s.unfreeze) for s in config.stages] == [
        ("representation", "none"), ("logits", "gradual"), ("labels", "gradual")]
    assert config.output_dir == f"outputs/paper/xtremedistil_{shape}"


@pytest.mark.parametrize("args, message", [
    (["--flagfile=flags/task_transfer.cfg", "--data_dir=d", "--dev_fraction=0.1"],
     "apply to task-agnostic runs"),
    (["--flagfile=flags/l6h256.cfg", "--augmentation_examples=10"],
     "applies to task transfer only"),
    (["--flagfile=flags/l6h256.cfg", "--teacher_finetune_epochs=1"],
     "applies to task transfer only"),
    (["--flagfile=flags/task_transfer.cfg", "--data_dir=d", "--source_task=squad_v1"],
     "not a classification, regression or token-classification task"),
    (["--flagfile=flags/task_transfer.cfg", "--data_dir=d", "--source_task=sst3"],
     "source_task='sst3' is not a task"),
    (["--flagfile=flags/task_transfer.cfg", "--data_dir=d", "--strategy=multi_worker"],
     "fine-tune the teacher first"),
    (["--flagfile=flags/task_transfer.cfg", "--data_dir=d",
      "--importance_extra_data=builtin:wikipedia_pairs"],
     "importance_extra_data applies to task-agnostic runs"),
    (["--flagfile=flags/task_transfer.cfg", "--data_dir=d", "--logits_eval_every=0",
      "--logits_patience=0"], "unfreeze='gradual' trains each phase"),
])
def test_contradictory_task_transfer_flags(parse, args, message):
    with pytest.raises(ValueError, match=message):
        parse(*args)


def test_paper_task_transfer_mnli(parse):
    config = parse("--flagfile=flags/paper/task_transfer_mnli.cfg")
    assert (config.source_task, config.student, config.importance_batches) == (
        "mnli", "l6h384", 64)
    assert config.output_dir == "outputs/paper/task_transfer_mnli"


@pytest.mark.parametrize("args, message", [
    (["--word_embedding_init=pca"], "with student_init='etd_impt': PCA coordinates"),
    (["--student_init=etd_rand", "--word_embedding_init=pca"], "student_init='etd_rand'"),
    (["--student_init=checkpoint", "--student_checkpoint=ckpt", "--word_embedding_init=pca"],
     "student_init='checkpoint'"),
    (["--student=some/folder", "--student_init=random", "--word_embedding_init=pca"],
     "use a preset student"),
    (["--student_init=random", "--freeze_word_embedding"], "keep random word vectors untrained"),
    (["--word_embedding_init=svd"], "value should be one of"),
])
def test_word_embedding_flags_refuse_incoherent_combinations(parse, args, message):
    with pytest.raises((ValueError, flags.IllegalFlagValueError), match=message) as error:
        parse("--flagfile=flags/l6h256.cfg", *args)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("args", [
    ["--student_init=random", "--word_embedding_init=pca"],
    ["--student_init=teacher_svd", "--word_embedding_init=pca", "--freeze_word_embedding"],
    ["--freeze_word_embedding"],  # ETD's own embedding columns, kept fixed
])
def test_word_embedding_flags_reach_the_config(parse, args):
    config = parse("--flagfile=flags/l6h256.cfg", *args)
    assert config.word_embedding_init == ("pca" if "--word_embedding_init=pca" in args
                                          else "student_init")
    assert config.freeze_word_embedding == ("--freeze_word_embedding" in args)
    assert "--word_embedding_init=" in run_distill.flags_text()
