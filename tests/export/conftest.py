"""Tiny tokenizer, models and one shared export for the export tests."""
import keras
import numpy as np
import pytest
from xtremedistil_tf.export import ExportConfig, ExportData, export_model
from xtremedistil_tf.models import Encoder, get_preset
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.tokenizers import Tokenizer

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "a", "film", "movie", "plot", "was", "is", "very", "good", "great", "fine",
         "bad", "awful", "dull", "and", "but", "not", "it", "john", "smith", "paris",
         "london", "visited", "who", "where", "what", "?", ".", ",", "!", "cafe", "red",
         "blue", "cat", "dog", "sat", "on", "yes", "no", "##s", "##ed", "##ing"]
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
VOCAB = list(dict.fromkeys(SPECIAL + WORDS + LETTERS + ["##" + c for c in LETTERS]))
VOCAB += [f"word{i}" for i in range(99 - len(VOCAB))]  # exactly the tiny preset's 99 rows
assert len(VOCAB) == 99
LABELS = ["negative", "neutral", "positive"]
TEXTS = ["the film was very good", "a dull , awful plot !", "john visited paris",
         "it is fine", "the movie was not bad but not great either and the plot was dull",
         "Café ÉLAN was great!", "who sat on the cat ?", ""]
PAIRS = ["where is paris ?", "the dog", "what", "no", "yes it is", "red cat", "blue dog", "a"]
SEQ = 16
# Largest max-abs difference from Keras allowed per artifact, on probabilities.
TOLERANCE = {"saved_model": 1e-5, "litert_fp32": 1e-5, "litert_text_fp32": 1e-5,
             "litert_fp16": 5e-3, "litert_int8": 5e-2, "litert_int8_full": 2e-1}


def make_tokenizer():
    return Tokenizer.from_vocab(VOCAB)


def tiny_encoder():
    return Encoder(get_preset("tiny", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))


def tiny_classifier(seed=7):
    keras.utils.set_random_seed(seed)
    model = SequenceClassifier(tiny_encoder(), num_labels=3, label_names=LABELS)
    model.build()
    # Larger head weights than the init so that classes differ and argmax is meaningful.
    kernel = model.classifier.kernel
    kernel.assign(np.random.default_rng(seed).normal(0, 1.0, kernel.shape).astype("float32"))
    return model


@pytest.fixture(scope="session")
def tokenizer():
    return make_tokenizer()


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """One classifier exported to every format (text ones included), shared by tests."""
    model, tok = tiny_classifier(), make_tokenizer()
    out = tmp_path_factory.mktemp("export")
    config = ExportConfig(
        str(out), model_name="clf", version=1, max_seq_length=SEQ,
        formats=("saved_model", "litert_fp32", "litert_fp16", "litert_int8",
                 "litert_int8_full", "litert_text_fp32"))
    dev = ExportData(TEXTS, labels=["positive", "negative", "neutral", "positive", "negative",
                                    "positive", "neutral", "neutral"], source="test texts")
    report = export_model(model, config, tokenizer=tok, dev_data=dev,
                          representative_data=ExportData(TEXTS + PAIRS), verbose=False)
    return {"model": model, "tokenizer": tok, "report": report, "base": out,
            "saved_model": report["paths"]["saved_model"], "litert": report["paths"]["litert"]}
