"""Tiny teachers, students and task data shared by the MKD tests."""
import numpy as np
import tensorflow as tf

from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

TASKS = {"sst2": 2, "mnli": 3, "stsb": 1}


def tiny_encoder(**overrides):
    encoder = Encoder(get_preset("tiny", hidden_dropout_prob=0.0,
                                 attention_probs_dropout_prob=0.0, **overrides))
    encoder.build()
    return encoder


def tiny_teacher(num_labels, seed):
    teacher = SequenceClassifier(tiny_encoder(), num_labels=num_labels, dropout=0.0,
                                 problem_type="regression" if num_labels == 1
                                 else "single_label_classification")
    teacher.build()
    rng = np.random.default_rng(seed)
    # Large, distinct head weights give each task a sharp target of its own.
    teacher.classifier.kernel.assign(rng.normal(0, 2.0, teacher.classifier.kernel.shape))
    return teacher


def task_arrays(seed, num_labels, size=24, seq_len=7):
    """Token arrays and labels of one tiny task."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 99, size=(size, seq_len)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[::3, 5:] = 0
    inputs = {"input_ids": ids * mask, "attention_mask": mask,
              "token_type_ids": np.zeros_like(ids)}
    labels = (rng.random(size).astype(np.float32) if num_labels == 1
              else rng.integers(0, num_labels, size).astype(np.int32))
    return inputs, labels


def task_dataset(seed, num_labels, size=24, batch_size=8, seq_len=7):
    inputs, labels = task_arrays(seed, num_labels, size, seq_len)
    return tf.data.Dataset.from_tensor_slices((inputs, labels)).batch(batch_size).repeat()
