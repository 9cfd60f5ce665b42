"""How a task model is trained and where the run writes its outputs."""
import dataclasses

from xtremedistil_tf.tasks.probe_head import HEAD_INITS

POOLINGS = ("auto", "pooled_output", "first", "mean")
# Below this width an encoder is "small": it fine-tunes best at twice BERT-base's rate.
_SMALL_WIDTH = 512


def default_learning_rate(encoder_config):
    """BERT's 5e-5 for base-sized encoders and wider, 1e-4 for small ones.

    Small encoders (hidden 384 or 256: all-MiniLM-L6-v2 and the XtremeDistil
    students) learn a new head far too slowly at 5e-5 on CPU-sized budgets:
    on 2,000 SST-2 sentences (1 epoch, length 64, mean-pooled head) MiniLM
    reaches dev accuracy 0.774 at 5e-5 and 0.820 at 1e-4 (0.818 at 2e-4), an
    l6h256 ETD student 0.680 and 0.718 (0.720 at 2e-4); see the README.
    A BiLSTM student (`model_type` "bilstm") is not pre-trained like a
    transformer; it fine-tunes at the rate MKD distils it with, 1e-3
    (flags/mkd_bilstm.cfg).
    """
    if encoder_config.model_type == "bilstm":
        return 1e-3
    return 5e-5 if encoder_config.hidden_size >= _SMALL_WIDTH else 1e-4


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
    """Settings of one fine-tuning run.

    Args:
        output_dir: folder for `results.json`, predictions, the best model
            (`model.keras`), its `tokenizer.json` and `summary.txt`.
        num_train_epochs: passes over the training data; 0 evaluates the given
            model only.
        learning_rate: peak AdamW learning rate; None picks it by the encoder's
            width (`default_learning_rate`).
        batch_size: training examples (QA windows) per step.
        eval_batch_size: examples per prediction batch.
        warmup_ratio: share of the steps spent warming the rate up.
        weight_decay: AdamW decoupled weight decay (not on biases or LayerNorm).
        clipnorm: clip the norm of each gradient (Keras `clipnorm`, per variable);
            None: off.
        seed: seed of shuffling and of new head weights.
        save_model: write the selected model as `model.keras`.
        predict_test: also predict unlabelled test splits (labelled test
            splits, as in CoNLL, are always scored).
        verbose: 0 silent, 1 progress bars, 2 one line per epoch.
        pooling: what a new sentence-level head reads: "pooled_output" (BERT's
            pooler on [CLS]), "first" ([CLS] itself), "mean" (the mean of the
            token vectors), or "auto" (resolved by the caller from the
            checkpoint's sentence-transformers pooling files, see
            `resolve_pooling`; "pooled_output" when nothing resolved it).
        head_init: "random", or "probe": a new one-layer sentence head starts at
            the linear probe of the frozen encoder on the training set
            (`probe_head.py`); other heads start random either way.
        dropout: the rate of every dropout layer of the task model while
            training (encoder and head); None keeps the checkpoint's rates.
    """

    output_dir: str
    num_train_epochs: int = 3
    learning_rate: float | None = None
    batch_size: int = 32
    eval_batch_size: int = 64
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    clipnorm: float = 1.0
    seed: int = 0
    save_model: bool = True
    predict_test: bool = False
    verbose: int = 1
    pooling: str = "auto"
    head_init: str = "random"
    dropout: float | None = None

    def validate(self):
        """Raises `ValueError` naming the first field out of range."""
        if not self.output_dir:
            raise ValueError("output_dir is empty; give a folder for results and predictions.")
        if not isinstance(self.num_train_epochs, int) or self.num_train_epochs < 0:
            raise ValueError(f"num_train_epochs={self.num_train_epochs!r} must be an integer "
                             ">= 0 (0 only evaluates).")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ValueError(f"learning_rate={self.learning_rate} must be > 0.")
        for name in ("batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer.")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio={self.warmup_ratio} must be in [0, 1).")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay={self.weight_decay} must be >= 0.")
        if self.clipnorm is not None and self.clipnorm <= 0:
            raise ValueError(f"clipnorm={self.clipnorm} must be > 0 or None.")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling={self.pooling!r}; valid: {list(POOLINGS)}.")
        if self.head_init not in HEAD_INITS:
            raise ValueError(f"head_init={self.head_init!r}; valid: {list(HEAD_INITS)}.")
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout={self.dropout} must be in [0, 1), or unset to keep the "
                             "checkpoint's rates.")
        if self.verbose not in (0, 1, 2):
            raise ValueError(f"verbose={self.verbose} must be 0, 1 or 2.")
        return self

    def replace(self, **changes):
        return dataclasses.replace(self, **changes).validate()

    def to_dict(self):
        return dataclasses.asdict(self)
