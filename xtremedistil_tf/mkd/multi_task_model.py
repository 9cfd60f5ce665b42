"""One shared encoder with a classification (or regression) head per task."""
import re

import keras
from keras import ops


def _normalised(name):
    return re.sub(r"[^0-9a-z]", "", name.lower())


def check_task_names(names):
    """Raises `ValueError` when task names repeat or differ only in case or punctuation.

    Heads, output folders and flags are named after tasks, so "SST-2" and
    "sst2" would overwrite each other.
    """
    seen = {}
    for name in names:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][\w.-]*", name):
            raise ValueError(f"Task name {name!r} must start with a letter or digit and hold "
                             "only letters, digits, '_', '-' and '.'.")
        key = _normalised(name)
        if key in seen:
            raise ValueError(
                f"Task names {seen[key]!r} and {name!r} clash: heads and outputs are named "
                "after tasks (case and punctuation ignored), so give every task a distinct "
                "name, e.g. 'sst2' and 'sst2_aug'.")
        seen[key] = name


def pooled_width(encoder):
    """Width of `encoder`'s `pooled_output` (an `Encoder` or a `BiLSTMStudent`)."""
    config = getattr(encoder, "config", None)
    if config is not None and hasattr(config, "hidden_size"):
        return config.hidden_size
    if hasattr(encoder, "hidden_size"):
        return encoder.hidden_size
    raise ValueError(f"Cannot tell the pooled-output width of a {type(encoder).__name__}; "
                     "use an Encoder or a BiLSTMStudent.")


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class MultiTaskModel(keras.Model):
    """A shared encoder and one dense head per task on its pooled output.

    It serves as the MKD student and as a multi-task teacher. `call` with
    `task=name` adds that task's `logits` to the encoder's outputs, and
    `for_task(name)` gives a single-task Keras model (sharing the weights) that
    a `Distiller` or an evaluation loop can use unchanged.

    Args:
        encoder: an `Encoder`, or a `BiLSTMStudent` built without a head.
        tasks: dict (or list of pairs) of task name to number of outputs (1 for
            regression). Names must be distinct ignoring case and punctuation.
        dropout: dropout on the pooled output before each head.
        **kwargs: `keras.Model` arguments such as `name`.

    Examples:
    >>> model = MultiTaskModel(Encoder(get_preset("tiny")), {"sst2": 2, "stsb": 1})
    >>> model(inputs, task="sst2")["logits"].shape
    TensorShape([batch, 2])
    """

    def __init__(self, encoder, tasks, dropout=0.1, **kwargs):
        pairs = list(tasks.items()) if isinstance(tasks, dict) else [tuple(p) for p in tasks]
        if not pairs:
            raise ValueError("A MultiTaskModel needs at least one task.")
        check_task_names([name for name, _ in pairs])
        for name, units in pairs:
            if not isinstance(units, int) or units < 1:
                raise ValueError(f"Task {name!r} has {units!r} outputs; give a positive "
                                 "integer (1 for regression).")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout} must be in [0, 1).")
        super().__init__(**kwargs)
        self.encoder = encoder
        self.tasks = dict(pairs)
        self.dropout_rate = float(dropout)
        # Layers.
        self.head_dropout = keras.layers.Dropout(self.dropout_rate, name="head_dropout")
        self.heads = {
            name: keras.layers.Dense(
                units, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                dtype=encoder.dtype_policy, name=f"head_{name}")
            for name, units in self.tasks.items()}

    def build(self, input_shape=None):
        if not self.encoder.built:
            self.encoder.build()
        width = pooled_width(self.encoder)
        for head in self.heads.values():
            head.build((None, width))
        self.built = True

    def build_from_config(self, config):
        self.build()

    def call(self, inputs, training=False, task=None, output_qkv=False):
        outputs = dict(self.encoder(inputs, training=training, output_qkv=output_qkv)
                       if output_qkv else self.encoder(inputs, training=training))
        if task is not None:
            if task not in self.heads:
                raise ValueError(f"Unknown task {task!r}; this model has heads for "
                                 f"{sorted(self.heads)}.")
            pooled = self.head_dropout(outputs["pooled_output"], training=training)
            outputs["logits"] = ops.cast(self.heads[task](pooled), "float32")
        return outputs

    def for_task(self, task):
        """A single-task model that shares this model's encoder and `task`'s head."""
        from xtremedistil_tf.mkd.single_task_view import SingleTaskView

        return SingleTaskView(self, task)

    # Config.
    def get_config(self):
        base = super().get_config()
        base.update(encoder=keras.saving.serialize_keras_object(self.encoder),
                    tasks=[[name, units] for name, units in self.tasks.items()],
                    dropout=self.dropout_rate)
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)
