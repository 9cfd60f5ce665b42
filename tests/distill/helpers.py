"""Tiny teachers, students and batches shared by the distillation tests."""
import keras
import numpy as np
import tensorflow as tf

from xtremedistil_tf import Encoder, get_preset

VOCAB, SEQ = 99, 7


def tiny_teacher(dropout=0.0, **overrides):
    """A 3-layer, 48-wide teacher (wider and deeper than the student)."""
    values = dict(hidden_size=48, num_hidden_layers=3, num_attention_heads=4,
                  hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    values.update(overrides)
    config = get_preset("tiny", **values)
    model = Encoder(config, name="teacher")
    model.build()
    return model


def tiny_student(dropout=0.0, **overrides):
    config = get_preset("tiny", hidden_dropout_prob=dropout,
                        attention_probs_dropout_prob=dropout, **overrides)
    model = Encoder(config, name="student")
    model.build()
    return model


def token_arrays(num, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, size=(num, SEQ)).astype(np.int32)
    lengths = rng.integers(3, SEQ + 1, size=num)
    mask = (np.arange(SEQ)[None, :] < lengths[:, None]).astype(np.int32)
    return {"input_ids": ids * mask, "attention_mask": mask,
            "token_type_ids": np.zeros_like(ids)}


def dataset(num=16, batch=4, seed=0):
    arrays = token_arrays(num, seed)
    return tf.data.Dataset.from_tensor_slices((arrays,)).batch(batch)


@keras.saving.register_keras_serializable(package="xtremedistil_tf_tests")
class TinyBiLSTM(keras.Model):
    """A non-transformer student that returns only `logits` and `pooled_output`."""

    def __init__(self, num_classes=5, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.embed = keras.layers.Embedding(VOCAB, 16)
        self.lstm = keras.layers.Bidirectional(keras.layers.LSTM(8))
        self.head = keras.layers.Dense(num_classes)

    def call(self, inputs, training=False):
        pooled = self.lstm(self.embed(inputs["input_ids"]),
                           mask=keras.ops.cast(inputs["attention_mask"], "bool"))
        return {"pooled_output": pooled, "logits": self.head(pooled)}

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


@keras.saving.register_keras_serializable(package="xtremedistil_tf_tests")
class TinyClassifier(keras.Model):
    """An encoder plus a classification head: returns the encoder outputs and `logits`."""

    def __init__(self, encoder, num_classes=5, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.head = keras.layers.Dense(num_classes)

    def call(self, inputs, training=False, output_qkv=False):
        outputs = dict(self.encoder(inputs, training=training, output_qkv=output_qkv))
        outputs["logits"] = self.head(outputs["pooled_output"])
        return outputs


def checkpoint_state(folder):
    """The state of the latest checkpoint in `folder`, or None, read from another process.

    None also while the first checkpoint is being written or an old one swept.
    """
    from xtremedistil_tf.training.checkpoint_manager import CheckpointManager

    try:
        manager = CheckpointManager(folder)
        return manager.read_state() if manager.exists() else None
    except (tf.errors.OpError, ValueError):
        return None
