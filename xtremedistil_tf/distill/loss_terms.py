"""The named loss terms a `Distiller` can weight and sum, and their registry.

A term resolves its layer map and projections once against the teacher's and
the student's `OutputSpec`, names the teacher outputs it reads (so a cache can
hold them), and calls one pure function from `losses`.
"""
import functools

from xtremedistil_tf.distill import losses, pair_scores
from xtremedistil_tf.distill.layer_map import build_layer_map
from xtremedistil_tf.distill.output_spec import extract

REPRESENTATION_HINT = (
    "Use only 'logits_kl', 'logits_mse', 'pooled_mse', 'pooled_cosine' or 'labels_ce' "
    "for a student that is not a transformer.")


class LossTerm:
    """Base class. Subclasses set `teacher_keys` in `setup` and implement `__call__`."""

    needs_qkv = False
    needs_labels = False
    # Reads only rows holding two texts: a stage of such terms alone trains on pair rows.
    pairs_only = False

    def __init__(self, name, settings):
        self.name = name
        self.settings = settings
        self.teacher_keys = []

    def setup(self, teacher_spec, student_spec, projection):
        """`projection(key, in_width, out_width)` returns a shared layer or None."""
        raise NotImplementedError

    def __call__(self, teacher, student, mask, labels):
        """`teacher` is a dict of extracted tensors by key; `student` the raw outputs."""
        raise NotImplementedError

    def _require_layers(self, spec, who):
        if spec.num_layers is None:
            raise ValueError(
                f"Loss {self.name!r} needs hidden_states, but the {who} returns none. "
                + REPRESENTATION_HINT)


def _resolve_layer(index, spec, who, name):
    layer = index if index > 0 else spec.num_layers + 1 + index
    if not 1 <= layer <= spec.num_layers:
        raise ValueError(
            f"Loss {name!r}: {who} layer {index} is outside [1, {spec.num_layers}] "
            f"(or [-{spec.num_layers}, -1] from the top).")
    return layer


class HiddenStateTerm(LossTerm):
    """MSE or cosine between mapped hidden states, through a learned projection."""

    def __init__(self, name, settings, kind, embeddings_only=False):
        super().__init__(name, settings)
        self.fn = losses.hidden_mse if kind == "mse" else losses.hidden_cosine
        self.embeddings_only = embeddings_only

    def setup(self, teacher_spec, student_spec, projection):
        self._require_layers(teacher_spec, "teacher")
        self._require_layers(student_spec, "student")
        if self.embeddings_only:
            self.pairs = [(0, 0)]
        else:
            self.pairs = build_layer_map(self.settings.layer_map, teacher_spec.num_layers,
                                         student_spec.num_layers)
        self.projections = [
            projection(f"hidden_{s}", student_spec.widths[s], teacher_spec.widths[t])
            for s, t in self.pairs]
        self.teacher_keys = [f"hidden_states/{t}" for _, t in self.pairs]

    def __call__(self, teacher, student, mask, labels):
        total = 0.0
        for (s, t), proj in zip(self.pairs, self.projections):
            target, hidden = teacher[f"hidden_states/{t}"], student["hidden_states"][s]
            if proj is not None:
                hidden = proj(hidden)
            if self.settings.tokens == "cls":
                total += self.fn(target[:, 0], hidden[:, 0])
            else:
                total += self.fn(target, hidden, mask)
        # Averaged over mapped layers, so a weight means the same for any map.
        return total / len(self.pairs)


class AttentionTerm(LossTerm):
    """KL or MSE between attention probabilities of mapped layers."""

    def __init__(self, name, settings, kind):
        super().__init__(name, settings)
        self.fn = losses.attention_kl if kind == "kl" else losses.attention_mse

    def setup(self, teacher_spec, student_spec, projection):
        self._require_layers(teacher_spec, "teacher")
        self._require_layers(student_spec, "student")
        if teacher_spec.num_heads != student_spec.num_heads:
            raise ValueError(
                f"Loss {self.name!r} compares attention head by head, but the teacher has "
                f"{teacher_spec.num_heads} heads and the student {student_spec.num_heads}. "
                "Use the self-attention relation loss 'relation' instead; it works across "
                "head counts and widths.")
        pairs = build_layer_map(self.settings.layer_map, teacher_spec.num_layers,
                                student_spec.num_layers)
        if any(s == 0 or t == 0 for s, t in pairs):
            raise ValueError(
                f"Loss {self.name!r}: layer_map={self.settings.layer_map!r} maps layer 0 "
                "(the embeddings), which has no attention; map layers 1..L only.")
        self.pairs = pairs
        self.teacher_keys = [f"attention_probs/{t}" for _, t in pairs]

    def __call__(self, teacher, student, mask, labels):
        total = 0.0
        for s, t in self.pairs:
            total += self.fn(teacher[f"attention_probs/{t}"],
                             student["attention_probs"][s - 1], mask)
        return total / len(self.pairs)


class RelationTerm(LossTerm):
    """MiniLMv2 Q-Q, K-K and V-V relations of one teacher layer and one student layer."""

    needs_qkv = True

    def setup(self, teacher_spec, student_spec, projection):
        self._require_layers(teacher_spec, "teacher")
        self._require_layers(student_spec, "student")
        for spec, who in ((teacher_spec, "teacher"), (student_spec, "student")):
            if spec.qkv_widths is None:
                raise ValueError(
                    f"Loss {self.name!r} needs queries/keys/values, but the {who} does not "
                    "return them for output_qkv=True.")
        self.teacher_layer = _resolve_layer(
            self.settings.relation_teacher_layer, teacher_spec, "teacher", self.name)
        self.student_layer = _resolve_layer(
            self.settings.relation_student_layer, student_spec, "student", self.name)
        heads = self.settings.num_relation_heads
        for spec, layer, who in ((teacher_spec, self.teacher_layer, "teacher"),
                                 (student_spec, self.student_layer, "student")):
            width = spec.qkv_widths[layer - 1]
            if width % heads:
                raise ValueError(
                    f"num_relation_heads={heads} does not divide the {who}'s width {width}; "
                    "pick a count that divides both hidden sizes (e.g. their common divisor).")
        self.teacher_keys = [f"{n}/{self.teacher_layer}" for n in ("queries", "keys", "values")]

    def __call__(self, teacher, student, mask, labels):
        t = [teacher[key] for key in self.teacher_keys]
        s = [student[n][self.student_layer - 1] for n in ("queries", "keys", "values")]
        return losses.self_attention_relation_loss(
            t, s, self.settings.num_relation_heads, mask)


class LogitsTerm(LossTerm):
    """KL with temperature, or MSE, between teacher and student `logits`."""

    def __init__(self, name, settings, kind):
        super().__init__(name, settings)
        self.kind = kind

    def setup(self, teacher_spec, student_spec, projection):
        for spec, who in ((teacher_spec, "teacher"), (student_spec, "student")):
            if not spec.has_logits:
                raise ValueError(
                    f"Loss {self.name!r} needs 'logits' in the {who}'s outputs; a bare "
                    "encoder has none. Wrap it in a task model, or distil sentence vectors "
                    "with 'pooled_mse'/'pooled_cosine'.")
        self.teacher_keys = ["logits"]

    def __call__(self, teacher, student, mask, labels):
        target, logits = teacher["logits"], student["logits"]
        token_mask = mask if len(logits.shape) == 3 else None
        if self.kind == "kl":
            return losses.logits_kl(target, logits, self.settings.temperature, token_mask)
        return losses.logits_mse(target, logits, token_mask)


class PooledTerm(LossTerm):
    """MSE or cosine between sentence vectors (see `LossSettings.pooling`)."""

    def __init__(self, name, settings, kind):
        super().__init__(name, settings)
        self.fn = losses.hidden_mse if kind == "mse" else losses.hidden_cosine

    def _width(self, spec, who):
        width = spec.pooled_width if self.settings.pooling == "pooled_output" else spec.sequence_width
        if width is None:
            field = "pooled_output" if self.settings.pooling == "pooled_output" else "sequence_output"
            raise ValueError(
                f"Loss {self.name!r} with pooling={self.settings.pooling!r} needs "
                f"'{field}' in the {who}'s outputs; pick another pooling.")
        return width

    def setup(self, teacher_spec, student_spec, projection):
        self.key = f"pooled/{self.settings.pooling}"
        self.projection = projection(
            "pooled", self._width(student_spec, "student"), self._width(teacher_spec, "teacher"))
        self.teacher_keys = [self.key]

    def __call__(self, teacher, student, mask, labels):
        vector = extract(student, self.key, mask)
        if self.projection is not None:
            vector = self.projection(vector)
        return self.fn(teacher[self.key], vector)


class PooledSimilarityTerm(PooledTerm):
    """MSE between the in-batch cosine-similarity matrices of the sentence vectors."""

    def __init__(self, name, settings):
        super().__init__(name, settings, "mse")

    def setup(self, teacher_spec, student_spec, projection):
        self._width(student_spec, "student")
        self._width(teacher_spec, "teacher")
        self.key = f"pooled/{self.settings.pooling}"
        self.projection = None
        self.teacher_keys = [self.key]

    def __call__(self, teacher, student, mask, labels):
        return losses.similarity_mse(teacher[self.key], extract(student, self.key, mask))


class PairScoreTerm(PooledTerm):
    """The teacher's cosine of a pair's two texts read apart (its sentence vectors as
    `pooling` says), predicted by a head on the student's first-token ([CLS]) vector of
    the joint pass (`pair_scores`); single texts are skipped. The head reads [CLS], not
    the mean, so the mean-pooled sentence vector stays the similarity losses' own."""

    pairs_only = True

    def __init__(self, name, settings):
        super().__init__(name, settings, "mse")

    def setup(self, teacher_spec, student_spec, projection):
        self._width(teacher_spec, "teacher")
        if student_spec.sequence_width is None:
            raise ValueError(f"Loss {self.name!r} needs 'sequence_output' in the student's "
                             "outputs (its head reads the first token).")
        self.key = "pooled/first"
        # A one-output head: always a new layer (a width is never 1), dropped at export.
        self.head = projection("pair_score", student_spec.sequence_width, 1)
        self.teacher_keys = [f"{pair_scores.KEY_PREFIX}/{self.settings.pooling}"]

    def __call__(self, teacher, student, mask, labels):
        score = self.head(extract(student, self.key, mask))[:, 0]
        return losses.pair_score_mse(teacher[self.teacher_keys[0]], score)


class LabelsTerm(LossTerm):
    """Cross-entropy of the student's logits against gold labels (MSE for one output)."""

    needs_labels = True

    def setup(self, teacher_spec, student_spec, projection):
        if not student_spec.has_logits:
            raise ValueError(f"Loss {self.name!r} needs 'logits' in the student's outputs.")

    def __call__(self, teacher, student, mask, labels):
        if labels is None:
            raise ValueError(
                f"Loss {self.name!r} needs labels, but the batches carry none; drop it or "
                "use labelled transfer data.")
        logits = student["logits"]
        if logits.shape[-1] == 1 and len(logits.shape) == 2:  # a regression head
            return losses.label_mse(labels, logits)
        return losses.hard_label_cross_entropy(
            labels, logits, mask if len(logits.shape) == 3 else None)


LOSSES = {
    "hidden_mse": functools.partial(HiddenStateTerm, kind="mse"),
    "hidden_cosine": functools.partial(HiddenStateTerm, kind="cosine"),
    "embedding_mse": functools.partial(HiddenStateTerm, kind="mse", embeddings_only=True),
    "attention_kl": functools.partial(AttentionTerm, kind="kl"),
    "attention_mse": functools.partial(AttentionTerm, kind="mse"),
    "relation": RelationTerm,
    "logits_kl": functools.partial(LogitsTerm, kind="kl"),
    "logits_mse": functools.partial(LogitsTerm, kind="mse"),
    "pooled_mse": functools.partial(PooledTerm, kind="mse"),
    "pooled_cosine": functools.partial(PooledTerm, kind="cosine"),
    "pooled_similarity": PooledSimilarityTerm,
    "pair_score": PairScoreTerm,
    "labels_ce": LabelsTerm,
}


def make_term(name, settings):
    if name not in LOSSES:
        raise ValueError(f"Unknown loss {name!r}; valid losses: {sorted(LOSSES)}.")
    return LOSSES[name](name, settings)
