"""Tiny teachers and batches shared by the ETD tests."""
import numpy as np

from xtremedistil_tf import Encoder, get_preset

BATCH = {"input_ids": np.array([[2, 5, 9, 3, 0, 0, 0], [2, 7, 8, 11, 13, 4, 3]], np.int32),
         "attention_mask": np.array([[1, 1, 1, 1, 0, 0, 0], [1] * 7], np.int32),
         "token_type_ids": np.array([[0, 0, 1, 1, 0, 0, 0], [0] * 7], np.int32)}


def tiny_config(**overrides):
    return get_preset("tiny", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                      **overrides)


def tiny_teacher(**overrides):
    teacher = Encoder(tiny_config(**overrides), name="teacher")
    teacher.build()
    return teacher


def batches(count, rng, batch_size=3, seq_len=7):
    out = []
    for _ in range(count):
        ids = rng.integers(1, 99, size=(batch_size, seq_len)).astype(np.int32)
        mask = np.ones_like(ids)
        mask[0, 5:] = 0
        out.append({"input_ids": ids * mask, "attention_mask": mask,
                    "token_type_ids": np.zeros_like(ids)})
    return out
