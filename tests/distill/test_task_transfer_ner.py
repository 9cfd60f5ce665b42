"""run_distill.py task transfer from a tiny CoNLL NER task: a token-classification teacher,
a tagger student, per-token logits and tags, entity F1 on dev."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.distill.task_setup import NER_LABELS, make_ner_setup

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def ner_root(tmp_path_factory):
    return make_ner_setup(tmp_path_factory.mktemp("ner"))


def _flags(root, out):
    # The student starts from a dropout-free tiny encoder folder, so that its dev losses
    # follow its training losses (ETD-Impt on the token head runs in the test below).
    return [
        f"--teacher={root / 'ner_base'}", "--teacher_finetune_epochs=3",
        "--teacher_learning_rate=2e-3", "--source_task=conll2003",
        f"--data_dir={root / 'conll'}", f"--transfer_data={root / 'unlabelled.txt'}",
        "--augmentation_examples=16", f"--student={root / 'ner_student'}",
        "--max_seq_length=16", "--batch_size=8", "--stages=representation,logits,labels",
        "--representation_losses=hidden_mse:1", "--layer_map=top3",
        "--representation_max_steps=4", "--representation_learning_rate=1e-4",
        "--representation_eval_every=2",
        "--logits_losses=logits_mse:1", "--logits_max_steps=4", "--logits_learning_rate=1e-3",
        "--logits_eval_every=2",
        "--labels_losses=labels_ce:1", "--labels_max_steps=2", "--labels_learning_rate=1e-3",
        "--labels_unfreeze=gradual", "--labels_eval_every=2",
        "--teacher_cache=outputs", "--checkpoint_every=0", "--verbose=0",
        "--strategy=one_device", f"--output_dir={out}"]


@pytest.mark.slow
def test_ner_task_transfer_with_a_fine_tuned_teacher(ner_root, tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "run_distill.py", *_flags(ner_root, out)], cwd=ROOT,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "Teacher: fine-tuning" in proc.stdout
    assert "Distillation summary (task transfer from conll2003)" in proc.stdout
    metrics = json.loads((out / "metrics.json").read_text())

    # Entity F1 (seqeval) of every model on the source dev split.
    scores = metrics["source_task"]
    assert (scores["task"], scores["split"], scores["examples"]) == ("conll2003", "dev", 24)
    for name in ("teacher", "start", "distilled", "random"):
        for key in ("f1", "precision", "recall", "conlleval_f1", "token_accuracy"):
            assert 0.0 <= scores[name][key] <= 1.0, (name, key)
    assert "f1" in metrics["teacher"]["finetune_eval"]["dev"]
    assert metrics["data"]["augmentation_examples"] == 16 and not metrics["data"]["pairwise"]

    # Each stage lowers its own dev loss; the teacher's per-token logits came from the cache.
    stages = metrics["stages"]
    for name in ("representation", "logits", "labels"):
        assert stages[name]["best_dev_loss"] < stages[name]["start_dev_loss"], name
    assert stages["logits"]["teacher"] == "cache" and stages["labels"]["teacher"] == "unused"

    # The universal checkpoint has no head; the task student tags with the teacher's tags.
    import keras

    from xtremedistil_tf.checkpoints import from_hf, from_hf_task
    from xtremedistil_tf.models import Encoder, TokenClassifier

    encoder, _ = from_hf(str(out / "hf_student"))
    assert isinstance(encoder, Encoder) and encoder.config.hidden_size == 32
    config = json.loads((out / "hf_task_student" / "config.json").read_text())
    assert config["architectures"][0].endswith("ForTokenClassification")
    assert [config["id2label"][str(i)] for i in range(len(NER_LABELS))] == NER_LABELS
    tagger, tokenizer = from_hf_task(str(out / "hf_task_student"))
    assert isinstance(tagger, TokenClassifier) and tagger.label_names == NER_LABELS
    saved = keras.models.load_model(out / "student.keras")
    batch = tokenizer(["word1 word2s word7", "word11 word3"], max_length=16,
                      padding="max_length")
    batch = {k: np.asarray(batch[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}
    logits = np.asarray(saved(batch)["logits"])
    assert logits.shape == (2, 16, len(NER_LABELS))
    np.testing.assert_allclose(tagger(batch)["logits"], logits, atol=1e-5)


@pytest.mark.slow
def test_ner_teacher_folder_and_token_logits_cache(ner_root, tmp_path):
    """An HF *ForTokenClassification teacher; its per-token logits cached in float16."""
    from xtremedistil_tf.distill.distill_config import DistillConfig
    from xtremedistil_tf.distill.distill_run import run_distillation
    from xtremedistil_tf.distill.stage_config import StageConfig
    from xtremedistil_tf.distill.teacher_cache import TeacherCache

    out = tmp_path / "run"
    config = DistillConfig(
        teacher=str(ner_root / "ner_teacher"), source_task="conll2003",
        data_dir=str(ner_root / "conll"), transfer_data=str(ner_root / "unlabelled.txt"),
        augmentation_examples=8, student="tiny", student_init="etd_impt", max_seq_length=16,
        batch_size=8, teacher_cache="outputs", teacher_cache_dtype="float16",
        stages=(StageConfig("logits", (("logits_kl", 1.0),), max_steps=4, eval_every=2,
                            learning_rate=1e-3),),
        checkpoint_every=0, strategy="one_device", output_dir=str(out))
    metrics = run_distillation(config, log=lambda _: None, verbose=False)
    # ETD-Impt scored the teacher's units with its own per-token tag loss; the student's
    # token head is the teacher's, cut to the kept hidden dimensions.
    init = metrics["student_init"]
    assert init["method"] == "etd_impt" and init["head"] == "extracted"
    assert init["importance_batches"] >= 1
    # An extracted student starts close to its teacher, so a few noisy steps (dropout) may
    # not beat the start: the stage then keeps its start (the run above checks descent).
    logits = metrics["stages"]["logits"]
    assert logits["teacher"] == "cache" and np.isfinite(logits["train"]["logits_kl"])
    assert logits["best_dev_loss"] <= logits["start_dev_loss"]
    for name in ("teacher", "start", "distilled", "random"):
        assert {"f1", "conlleval_f1"} <= set(metrics["source_task"][name]), name
    # HF token heads drop BERT's pooler, so the student extracted from one has none either.
    assert not any("pooler" in key for key in _weights(out / "hf_student"))

    folders = os.listdir(out / "teacher_cache")
    assert len(folders) == 1
    cache = TeacherCache(str(out / "teacher_cache" / folders[0]))
    shape, dtype = cache.spec()["logits"]
    assert shape == (16, len(NER_LABELS)) and dtype == np.float16
    assert cache.num_examples == 64 + 8 + 24


def _weights(folder):
    from safetensors.numpy import load_file

    return load_file(os.path.join(folder, "model.safetensors"))
