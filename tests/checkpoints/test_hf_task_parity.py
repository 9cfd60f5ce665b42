"""Task models with their heads against transformers (PyTorch, eager, float32)."""
import numpy as np
import pytest

from tests.checkpoints.hf_task_reference import (
    HEADS, hf_logits, make_hf_task_model, max_logit_diffs)
from tests.hf_reference import hf_outputs, make_hf_model, max_diffs, padded_batch
from xtremedistil_tf import Encoder, Tokenizer, get_preset
from xtremedistil_tf.checkpoints import from_hf, from_hf_task, to_hf_task
from xtremedistil_tf.models import QuestionAnswerer, SequenceClassifier, TokenClassifier

MODEL_TYPES = ["bert", "roberta", "xlm-roberta", "electra"]
TOLERANCE = 1e-5
EXPECTED_CLASS = {"classification": SequenceClassifier, "regression": SequenceClassifier,
                  "token": TokenClassifier, "qa": QuestionAnswerer}
# Overrides that make a tiny preset look like each family's checkpoints.
FAMILY = {"bert": {}, "roberta": dict(pad_token_id=1, type_vocab_size=1),
          "xlm-roberta": dict(pad_token_id=1, type_vocab_size=1),
          "electra": dict(embedding_size=16, use_pooler=False)}


def _head_outputs(model, batch):
    out = model(batch)
    return {k: np.asarray(out[k]) for k in model.head_output_names}


@pytest.mark.parametrize("head", list(HEADS))
@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_task_checkpoint_matches_transformers(model_type, head, tmp_path, rng):
    hf_model = make_hf_task_model(model_type, head, tmp_path)
    model, tokenizer = from_hf_task(tmp_path, load_tokenizer=False)
    assert tokenizer is None and type(model) is EXPECTED_CLASS[head]
    assert model.encoder.config.model_type == model_type
    batch = padded_batch(model_type, rng, pairs=True)
    diffs = max_logit_diffs(_head_outputs(model, batch), hf_logits(hf_model, batch),
                            batch["attention_mask"])
    for name, diff in diffs.items():
        assert diff < TOLERANCE, (model_type, head, name, diff)
    if head in ("classification", "token"):
        assert model.label_names == [hf_model.config.id2label[i]
                                     for i in range(hf_model.config.num_labels)]
    if head == "regression":
        assert model.problem_type == "regression" and model.label_names is None
    if head == "classification":
        assert model.problem_type == "single_label_classification"


def _our_task_model(model_type, kind):
    encoder = Encoder(get_preset("tiny", model_type=model_type, **FAMILY[model_type]))
    if kind == "qa":
        return QuestionAnswerer(encoder)
    if kind == "token":
        return TokenClassifier(encoder, 5, ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
    regression = dict(num_labels=1, problem_type="regression")
    labels = dict(num_labels=3, label_names=["neg", "neu", "pos"])
    return {
        # BERT's pooler is the hidden layer of its HF head.
        "default": lambda: SequenceClassifier(encoder, **labels),
        # RoBERTa's HF head has no pooler; the pooler becomes classifier.dense.
        "pooler_as_dense": lambda: SequenceClassifier(encoder, **labels),
        "tanh_head": lambda: SequenceClassifier(encoder, **regression, pooling="first",
                                                head_activation="tanh"),
        "gelu_head": lambda: SequenceClassifier(encoder, **labels, pooling="first",
                                                head_activation="gelu"),
    }[kind]()


@pytest.mark.parametrize("model_type,kind,auto", [
    ("bert", "default", "SequenceClassification"),
    ("roberta", "pooler_as_dense", "SequenceClassification"),
    ("xlm-roberta", "tanh_head", "SequenceClassification"),
    ("electra", "gelu_head", "SequenceClassification"),
    ("bert", "token", "TokenClassification"),
    ("electra", "qa", "QuestionAnswering"),
])
def test_to_hf_task_round_trip(model_type, kind, auto, tmp_path, rng):
    import transformers

    model = _our_task_model(model_type, kind)
    model.build()
    batch = padded_batch(model_type, rng, pairs=True)
    expected = _head_outputs(model, batch)
    to_hf_task(model, None, tmp_path / "out")

    hf_model = getattr(transformers, f"AutoModelFor{auto}").from_pretrained(tmp_path / "out")
    assert type(hf_model).__name__.endswith("For" + auto)
    for name, diff in max_logit_diffs(expected, hf_logits(hf_model, batch),
                                      batch["attention_mask"]).items():
        assert diff < TOLERANCE, (name, diff)
    names = getattr(model, "label_names", None)
    if names:
        assert [hf_model.config.id2label[i] for i in range(len(names))] == names
    if getattr(model, "problem_type", None) == "regression":
        assert hf_model.config.problem_type == "regression" and hf_model.config.num_labels == 1

    again, _ = from_hf_task(tmp_path / "out", load_tokenizer=False)
    assert type(again) is type(model)
    assert getattr(again, "label_names", None) == names
    for name, value in _head_outputs(again, batch).items():
        np.testing.assert_array_equal(value, expected[name])


def test_finetune_output_folder_and_keras_file(tmp_path, rng):
    """run_finetune.py writes model.keras, the tokenizer and a (non-HF) config.json."""
    from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer
    from xtremedistil_tf.utils.atomic_io import write_json

    model = _our_task_model("bert", "token")
    batch = padded_batch("bert", rng)
    expected = _head_outputs(model, batch)["logits"]
    model.save(tmp_path / "model.keras")
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(94)]
    TaskTokenizer(Tokenizer.from_vocab(tokens)).save(tmp_path)
    write_json(tmp_path / "config.json", {"task": "conll2003"})

    loaded, tokenizer = from_hf_task(tmp_path)
    assert loaded.label_names == model.label_names and tokenizer.vocab_size == 99
    np.testing.assert_array_equal(_head_outputs(loaded, batch)["logits"], expected)
    mixed, _ = from_hf_task(tmp_path / "model.keras", dtype="mixed_bfloat16",
                            load_tokenizer=False)
    assert mixed.encoder.dtype_policy.name == "mixed_bfloat16"
    logits = mixed(batch)["logits"]
    assert logits.dtype == "float32"
    np.testing.assert_allclose(logits, expected, atol=0.1)


def test_hf_task_folder_with_tokenizer(tmp_path, rng):
    make_hf_task_model("bert", "classification", tmp_path)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(94)]
    Tokenizer.from_vocab(tokens).save(tmp_path)
    model, tokenizer = from_hf_task(tmp_path)
    out = model(tokenizer(["w3 w7 w90", "w1"], max_length=7))
    assert out["logits"].shape == (2, 3)


def test_from_hf_reads_the_encoder_of_a_checkpoint_without_pooler(tmp_path, rng):
    """Token-classification checkpoints are saved without a pooler."""
    hf_model = make_hf_task_model("bert", "token", tmp_path)
    encoder, _ = from_hf(tmp_path, load_tokenizer=False)
    assert encoder.pooler is None
    batch = padded_batch("bert", rng)
    for name, diff in max_diffs(encoder(batch), hf_outputs(hf_model.base_model, batch),
                                batch["attention_mask"]).items():
        assert diff < TOLERANCE, (name, diff)


def test_bare_encoder_folder_has_no_task_head(tmp_path):
    make_hf_model("bert", tmp_path)
    with pytest.raises(ValueError, match=r"no task head \(architectures=\['BertModel'\].*"
                                         r"load its encoder with from_hf, or fine-tune it"):
        from_hf_task(tmp_path)
