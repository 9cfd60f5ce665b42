"""Task checkpoints that cannot be read or written fail with what to do instead."""
import json

import pytest
from safetensors.numpy import load_file, save_file

from tests.checkpoints.hf_task_reference import make_hf_task_model
from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.checkpoints import from_hf_task, to_hf_task
from xtremedistil_tf.models import SequenceClassifier


def _edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def test_keras_file_with_a_bare_encoder(tmp_path):
    encoder = Encoder(get_preset("tiny"))
    encoder.build()
    encoder.save(tmp_path / "encoder.keras")
    with pytest.raises(ValueError, match="it holds a bare Encoder.*from_hf, or fine-tune"):
        from_hf_task(tmp_path / "encoder.keras")


def test_missing_keras_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        from_hf_task(tmp_path / "model.keras")


def test_multi_label_head_is_refused(tmp_path):
    make_hf_task_model("bert", "classification", tmp_path)
    _edit_config(tmp_path, problem_type="multi_label_classification")
    with pytest.raises(ValueError, match="problem_type='multi_label_classification'.*"
                                         "supported: 'single_label_classification'"):
        from_hf_task(tmp_path, load_tokenizer=False)


def test_id2label_with_a_gap(tmp_path):
    make_hf_task_model("bert", "token", tmp_path)
    _edit_config(tmp_path, id2label={"0": "O", "2": "B-PER"})
    with pytest.raises(ValueError, match=r"has ids \[0, 2\]; it needs one name for each id"):
        from_hf_task(tmp_path, load_tokenizer=False)


def test_missing_pooler_of_a_bert_classifier_is_named(tmp_path):
    make_hf_task_model("bert", "classification", tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    del tensors["bert.pooler.dense.weight"]
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match=r"missing tensors: \['bert.pooler.dense.weight'\]"):
        from_hf_task(tmp_path, load_tokenizer=False)


@pytest.mark.parametrize("model_type,kwargs,message", [
    ("bert", dict(pooling="mean"), "pooling='mean'"),
    ("electra", {}, r"a single Dense on the first token.*head_activation='gelu'"),
    ("roberta", dict(pooling="first", head_activation="gelu"),
     "head_activation='gelu' where roberta uses 'tanh'"),
])
def test_head_without_hf_form_writes_nothing(model_type, kwargs, message, tmp_path):
    overrides = {"bert": {}, "roberta": dict(pad_token_id=1, type_vocab_size=1),
                 "electra": dict(embedding_size=16, use_pooler=False)}[model_type]
    model = SequenceClassifier(Encoder(get_preset("tiny", model_type=model_type, **overrides)),
                               2, **kwargs)
    with pytest.raises(ValueError, match=message + ".*Export the encoder alone with to_hf"):
        to_hf_task(model, None, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_encoder_is_not_a_task_model(tmp_path):
    with pytest.raises(ValueError, match="For a bare Encoder use to_hf"):
        to_hf_task(Encoder(get_preset("tiny")), None, tmp_path / "out")
