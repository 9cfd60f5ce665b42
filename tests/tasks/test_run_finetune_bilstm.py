"""A BiLSTM student through run_finetune.py and run_export.py, as a user runs them."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.tasks.conftest import run_script, save_checkpoint, sentiment_rows, write_tsv
from xtremedistil_tf.export.litert_model import LiteRTModel
from xtremedistil_tf.models import BiLSTMStudent, SequenceClassifier
from xtremedistil_tf.tokenizers import Tokenizer

TEXTS = ["the film was very good", "it is dull", "the plot was quite bad but the actors great",
         "fine"]


@pytest.fixture
def bilstm_checkpoint(tmp_path):
    """A headless BiLSTM student as MKD saves it: encoder.keras with its tokenizer beside."""
    student = BiLSTMStudent(vocab_size=99, embedding_size=15, hidden_size=22, dropout=0.0,
                            name="encoder")
    student.build()
    return save_checkpoint(student, tmp_path / "mkd")


@pytest.mark.slow
def test_fine_tunes_and_exports_a_bilstm_student(tmp_path, bilstm_checkpoint, data_rng):
    glue = tmp_path / "glue"
    write_tsv(glue / "SST-2" / "train.tsv", ["sentence", "label"], sentiment_rows(160, data_rng))
    write_tsv(glue / "SST-2" / "dev.tsv", ["sentence", "label"], sentiment_rows(24, data_rng))
    out = tmp_path / "out"
    run = run_script("run_finetune.py", "--flagfile=flags/finetune/glue_sst2.cfg",
               f"--data_dir={glue}", f"--init_checkpoint={bilstm_checkpoint}",
               f"--output_dir={out}", "--num_train_epochs=3", "--learning_rate=3e-2",
               "--batch_size=16", "--max_seq_length=16", "--verbose=2")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "SequenceClassifier on a bilstm encoder" in run.stdout
    results = json.loads((out / "results.json").read_text())
    losses = [e["train_loss"] for e in results["epochs"]]
    assert losses[-1] < 0.7 * losses[0]
    assert results["eval"]["dev"]["accuracy"] >= 0.8
    assert "--init_checkpoint=" in (out / "flags.cfg").read_text()
    assert json.loads((out / "config.json").read_text())["task"] == "sst2"

    export = run_script("run_export.py", f"--model={out}", f"--output_dir={tmp_path / 'serving'}",
                  "--model_name=sst2_bilstm", "--formats=saved_model,litert_fp32",
                  "--max_seq_length=16")
    assert export.returncode == 0, export.stderr[-3000:]
    report = json.loads((tmp_path / "serving" / "sst2_bilstm" / "reports" / "1" /
                         "export_report.json").read_text())
    assert report["kind"] == "classifier" and report["passed"]
    assert report["litert_batch_size"] == 1  # LiteRT lowers the LSTM loop at a fixed batch

    # The served text signature gives the Keras model's logits on the same texts.
    import tensorflow_text  # noqa: F401  (ops of the in-graph tokenizer)

    model = keras.models.load_model(out / "model.keras")
    assert isinstance(model, SequenceClassifier) and isinstance(model.encoder, BiLSTMStudent)
    ids = Tokenizer.from_pretrained(str(out))(TEXTS, max_length=16, padding="max_length")
    expected = model({k: np.asarray(v) for k, v in ids.items()})["logits"].numpy()
    served = tf.saved_model.load(str(tmp_path / "serving" / "sst2_bilstm" / "1"))
    by_text = served.signatures["serve_text"](text=tf.constant(TEXTS))["logits"].numpy()
    by_ids = served.signatures["serving_default"](
        **{k: tf.constant(np.asarray(v, np.int32)) for k, v in ids.items()})["logits"].numpy()
    np.testing.assert_allclose(by_text, expected, atol=1e-5)
    np.testing.assert_allclose(by_ids, expected, atol=1e-5)
    lite = LiteRTModel(str(tmp_path / "serving" / "sst2_bilstm" / "litert" / "1" /
                           "model_fp32.tflite"))
    by_lite = lite("serving_default", **ids)["logits"]
    np.testing.assert_allclose(by_lite, expected, atol=1e-5)
    assert not np.allclose(expected[0], expected[1])  # a trained head tells texts apart
