"""A Keras model that trains a student to match a frozen teacher."""
import inspect

import keras
import tensorflow as tf
from keras import ops

from xtremedistil_tf.distill.loss_settings import LossSettings
from xtremedistil_tf.distill.loss_terms import make_term
from xtremedistil_tf.distill.output_spec import OutputSpec, extract
from xtremedistil_tf.distill.pair_scores import is_pair_key, teacher_pair_scores


def _num_replicas():
    if tf.distribute.has_strategy() and tf.distribute.in_cross_replica_context() is False:
        return tf.distribute.get_strategy().num_replicas_in_sync
    return 1


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class Distiller(keras.Model):
    """Distils `teacher` into `student` with a weighted sum of named loss terms.

    The teacher is frozen: it runs with `training=False` and its outputs are
    under `stop_gradient`. Gradients reach only the student and the
    projections this model owns (one per width mismatch a term needs).
    `call` is the student, so `evaluate` and `predict` work unchanged.

    Batches are `(inputs, targets)`: `inputs` is the model input dict, `targets`
    is None or a dict with optional `teacher` (precomputed teacher outputs by
    key, e.g. from a `TeacherCache`; the teacher is not run then) and `labels`.

    Args:
        teacher: a Keras model returning a dict (an `Encoder`, or a task model
            whose dict adds `logits`), or None when every loss reads gold labels
            only (`labels_ce`): the step loop then fine-tunes the student.
        student: a Keras model returning a dict; a non-transformer student that
            returns only `logits`/`pooled_output` works with the logit and
            pooled losses.
        losses: dict of loss name (a key of `LOSSES`) to weight.
        loss_settings: a `LossSettings`; defaults when None.
        global_clipnorm: clip the global gradient norm to this after summing
            over replicas (Keras optimisers clip per replica), or None.
        **kwargs: `keras.Model` arguments.

    Examples:
    >>> teacher, student = Encoder(get_preset("tiny")), Encoder(get_preset("tiny"))
    >>> distiller = Distiller(teacher=teacher, student=student,
    ...                       losses={"hidden_mse": 1.0, "relation": 1.0})
    >>> distiller.compile(optimizer=keras.optimizers.Adam(1e-3))
    >>> distiller.fit(dataset_of_input_dicts, epochs=1)
    """

    def __init__(self, *, teacher, student, losses, loss_settings=None,
                 global_clipnorm=None, **kwargs):
        super().__init__(**kwargs)
        # Layers.
        self.teacher = teacher
        if teacher is not None:
            self.teacher.trainable = False
        self.student = student
        self.loss_settings = (loss_settings or LossSettings()).validate()
        self.global_clipnorm = global_clipnorm
        self.projections = {}
        self._unfrozen_groups = None
        # Wiring.
        self.set_losses(losses)
        self.built = True

    # Losses.
    def set_losses(self, losses):
        """Selects the weighted loss terms; builds any projection they need.

        Call it inside the strategy scope, before compiling for a new stage.
        """
        if not losses:
            raise ValueError("losses is empty; give at least one {name: weight}.")
        terms = [make_term(name, self.loss_settings) for name in losses]
        if self.teacher is None and not all(t.needs_labels for t in terms):
            raise ValueError(
                f"Losses {[t.name for t in terms if not t.needs_labels]} read a teacher's "
                "outputs, but there is no teacher; give one or use labels_ce only.")
        needs_qkv = any(t.needs_qkv for t in terms)
        if needs_qkv:
            for model, who in ((self.teacher, "teacher"), (self.student, "student")):
                if not _accepts_qkv(model):
                    names = [t.name for t in terms if t.needs_qkv]
                    raise ValueError(
                        f"Losses {names} read queries/keys/values, but the {who} "
                        f"({type(model).__name__}) takes no output_qkv argument; use "
                        "hidden-state losses (hidden_mse) with task models.")
        inputs = _probe_inputs()
        teacher_spec = OutputSpec.from_outputs(
            {} if self.teacher is None else self._run(self.teacher, inputs, False, needs_qkv))
        student_spec = OutputSpec.from_outputs(self._run(self.student, inputs, False, needs_qkv))
        for term in terms:
            term.setup(teacher_spec, student_spec, self._projection)
        self.loss_weights = {name: float(weight) for name, weight in losses.items()}
        self.terms = terms
        self.needs_qkv = needs_qkv
        self._trackers = [keras.metrics.Mean(name="loss")] + [
            keras.metrics.Mean(name=name) for name in losses]
        self.train_function = self.test_function = self.predict_function = None
        self.set_unfrozen_groups(self._unfrozen_groups)

    @property
    def teacher_keys(self):
        """The teacher outputs the current terms read, as `extract` keys."""
        return sorted({key for term in self.terms for key in term.teacher_keys})

    @property
    def needs_labels(self):
        return any(term.needs_labels for term in self.terms)

    @property
    def pairs_only(self):
        """Whether every current term reads pairs only (`pair_score`)."""
        return all(term.pairs_only for term in self.terms)

    def _projection(self, key, in_width, out_width):
        if in_width == out_width and not self.loss_settings.project_equal_widths:
            return None
        name = f"projection_{key}_{in_width}_{out_width}"
        if name not in self.projections:
            layer = keras.layers.Dense(
                out_width, dtype=self.student.dtype_policy, name=name,
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02))
            layer.build((None, in_width))
            self.projections[name] = layer
        return self.projections[name]

    @staticmethod
    def _run(model, inputs, training, qkv):
        return model(inputs, training=training, output_qkv=True) if qkv else model(
            inputs, training=training)

    # Gradual unfreezing.
    def layer_groups(self):
        """Student variables in groups from the top down: head, top layer, ..., embeddings.

        The head is every student variable outside the transformer layers and
        the embeddings (a task head, the pooler). A student without
        `encoder_layers` (e.g. a BiLSTM) is one group.
        """
        encoder = self.student if hasattr(self.student, "encoder_layers") else getattr(
            self.student, "encoder", None)
        if encoder is None or not hasattr(encoder, "encoder_layers"):
            return [list(self.student.trainable_variables)]
        groups = [list(layer.trainable_variables) for layer in reversed(encoder.encoder_layers)]
        groups.append(list(encoder.embeddings.trainable_variables))
        grouped = {id(v) for group in groups for v in group}
        heads = [v for v in self.student.trainable_variables if id(v) not in grouped]
        return [heads] + groups

    def set_unfrozen_groups(self, count):
        """Trains only the top `count` layer groups (None: all) plus the projections."""
        self._unfrozen_groups = count
        groups = self.layer_groups()
        if count is not None:
            groups = groups[:max(int(count), 1)]
        variables = [v for group in groups for v in group]
        for layer in self.projections.values():
            variables.extend(layer.trainable_variables)
        self._train_variables = variables
        self.train_function = None

    @property
    def train_variables(self):
        """The variables the next update changes (see `set_unfrozen_groups`)."""
        return list(self._train_variables)

    @property
    def student_variables(self):
        """Every variable training may change: the student's and the projections'."""
        out = list(self.student.variables)
        for layer in self.projections.values():
            out.extend(layer.variables)
        return out

    @property
    def all_trainable_variables(self):
        out = list(self.student.trainable_variables)
        for layer in self.projections.values():
            out.extend(layer.trainable_variables)
        return out

    # Steps.
    def call(self, inputs, training=False):
        return self.student(inputs, training=training)

    def teacher_targets(self, inputs, keys=None):
        """Runs the teacher and extracts `keys` (default: the outputs the terms read)."""
        keys = self.teacher_keys if keys is None else list(keys)
        if not keys:  # e.g. hard labels only: the teacher need not run
            return {}
        out = {key: ops.stop_gradient(teacher_pair_scores(
                   lambda single: self._run(self.teacher, single, False, False), inputs,
                   key.partition("/")[2]))
               for key in keys if is_pair_key(key)}
        keys = [key for key in keys if not is_pair_key(key)]
        if keys:
            qkv = any(key.partition("/")[0] in ("queries", "keys", "values") for key in keys)
            outputs = self._run(self.teacher, inputs, False, qkv)
            mask = inputs.get("attention_mask")
            out.update({key: ops.stop_gradient(extract(outputs, key, mask)) for key in keys})
        return out

    def compute_losses(self, inputs, targets=None, training=False):
        """Returns `(total, {name: unweighted loss})` for one local batch."""
        targets = targets or {}
        teacher = targets.get("teacher")
        if teacher is None:
            teacher = self.teacher_targets(inputs)
        else:
            teacher = {key: ops.stop_gradient(value) for key, value in teacher.items()}
        student = self._run(self.student, inputs, training, self.needs_qkv)
        mask = inputs.get("attention_mask")
        parts = {t.name: ops.cast(t(teacher, student, mask, targets.get("labels")), "float32")
                 for t in self.terms}
        total = sum(self.loss_weights[name] * value for name, value in parts.items())
        return total, parts

    def _update_trackers(self, total, parts):
        self._trackers[0].update_state(total)
        for tracker in self._trackers[1:]:
            tracker.update_state(parts[tracker.name])

    def train_on_batch_replica(self, data):
        """One update on the local batch; returns `(total, parts)` for this replica."""
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        variables = self._train_variables
        with tf.GradientTape() as tape:
            total, parts = self.compute_losses(inputs, targets, training=True)
            # Gradients are summed over replicas, so each replica's share is 1/R.
            loss = total / _num_replicas()
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        # Unused heads (e.g. the pooler under hidden-state losses) get no gradient.
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        grads = self._clip([g for g, _ in pairs])
        self.optimizer.apply(grads, [v for _, v in pairs])
        self._update_trackers(total, parts)
        return total, parts

    def _clip(self, grads):
        if not self.global_clipnorm:
            return grads
        grads = [tf.convert_to_tensor(g) if g is not None else g for g in grads]
        replicas = _num_replicas()
        if replicas > 1:
            # Clip the global gradient, not each replica's share of it.
            grads = tf.distribute.get_replica_context().all_reduce("sum", grads)
        threshold = self.global_clipnorm
        if hasattr(self.optimizer, "dynamic_scale"):
            # Clipping commutes with the loss scale: clip(s*g, s*c) = s*clip(g, c).
            threshold = threshold * self.optimizer.dynamic_scale
        grads, _ = tf.clip_by_global_norm(grads, threshold)
        if replicas > 1:
            # The optimiser sums over replicas again; hand each the 1/R share.
            grads = [g / replicas for g in grads]
        return grads

    def train_step(self, data):
        self.train_on_batch_replica(data)
        return {m.name: m.result() for m in self._trackers}

    def test_step(self, data):
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        total, parts = self.compute_losses(inputs, targets, training=False)
        self._update_trackers(total, parts)
        return {m.name: m.result() for m in self._trackers}

    @property
    def metrics(self):
        return list(self._trackers)

    # Config.
    def get_config(self):
        base = super().get_config()
        base.update(
            teacher=keras.saving.serialize_keras_object(self.teacher),
            student=keras.saving.serialize_keras_object(self.student),
            losses=dict(self.loss_weights),
            loss_settings=self.loss_settings.to_dict(),
            global_clipnorm=self.global_clipnorm,
        )
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["teacher"] = keras.saving.deserialize_keras_object(config["teacher"])
        config["student"] = keras.saving.deserialize_keras_object(config["student"])
        config["loss_settings"] = LossSettings.from_dict(config["loss_settings"])
        return cls(**config)


def _accepts_qkv(model):
    parameters = inspect.signature(model.call).parameters
    return "output_qkv" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _probe_inputs():
    ids = ops.ones((2, 7), dtype="int32")
    return {"input_ids": ids, "attention_mask": ops.ones_like(ids),
            "token_type_ids": ops.zeros_like(ids)}
