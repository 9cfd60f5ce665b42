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


# 4 heads of 6 from the tiny teacher's 4 heads of 8: a smaller head size.
SMALL_HEADS = dict(hidden_size=24, num_attention_heads=4, intermediate_size=20)


def head_columns(heads, neurons, head_size):
    """Teacher Q/K/V columns of `neurons[i]` within head `heads[i]`, head-major."""
    return np.concatenate([h * head_size + np.asarray(n) for h, n in zip(heads, neurons)])


def scale_head_neurons(encoder, layer, group, head, neurons, factor):
    """Multiplies the weights of `neurons` of `head` by `factor` (0 kills them).

    `group` "qk" touches the query and key columns and biases; "vo" the value
    columns and bias and the attention-output rows.
    """
    att = encoder.encoder_layers[layer].attention
    cols = head * encoder.config.head_size + np.asarray(neurons)
    parts = [att.query, att.key] if group == "qk" else [att.value]
    for dense in parts:
        kernel, bias = dense.kernel.numpy(), dense.bias.numpy()
        kernel[:, cols] *= factor
        bias[cols] *= factor
        dense.kernel.assign(kernel)
        dense.bias.assign(bias)
    if group == "vo":
        kernel = att.output_dense.kernel.numpy()
        kernel[cols, :] *= factor
        att.output_dense.kernel.assign(kernel)
