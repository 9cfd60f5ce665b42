"""One task of a `MultiTaskModel`, as an ordinary single-task Keras model."""
import keras


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class SingleTaskView(keras.Model):
    """Calls a `MultiTaskModel` for one task; weights stay shared with it.

    A `Distiller` or a prediction loop sees a model whose dict has `logits`,
    like a `SequenceClassifier`, so the single-task code paths need no change.

    Args:
        model: a `MultiTaskModel`.
        task: the name of one of its tasks.
        **kwargs: `keras.Model` arguments.
    """

    head_output_names = ("logits",)

    def __init__(self, model, task, **kwargs):
        if task not in model.heads:
            raise ValueError(f"Unknown task {task!r}; the model has heads for "
                             f"{sorted(model.heads)}.")
        kwargs.setdefault("name", f"{model.name}_{task}")
        super().__init__(**kwargs)
        # Not tracked as a sub-layer, so that this view's variables are the shared
        # encoder and its own head only, never the other tasks' heads.
        object.__setattr__(self, "_multi_task_model", model)
        self.task = task
        self.encoder = model.encoder
        self.head = model.heads[task]

    @property
    def multi_task_model(self):
        return self._multi_task_model

    def build(self, input_shape=None):
        if not self.multi_task_model.built:
            self.multi_task_model.build()
        self.built = True

    def build_from_config(self, config):
        self.build()

    def call(self, inputs, training=False, output_qkv=False):
        return self.multi_task_model(inputs, training=training, task=self.task,
                                     output_qkv=output_qkv)

    def get_config(self):
        base = super().get_config()
        base.update(model=keras.saving.serialize_keras_object(self.multi_task_model),
                    task=self.task)
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["model"] = keras.saving.deserialize_keras_object(config["model"])
        return cls(**config)
