"""The records readers produce, one per labelled (or unlabelled) input."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class TextExample:
    """A text or text pair with a class name (str), a score (float) or no label (None).

    `source` says where it came from ("path:line") so that later errors can point there.
    """

    guid: str
    text: str
    text_pair: str | None = None
    label: str | float | None = None
    source: str = ""


@dataclasses.dataclass(frozen=True)
class TokenExample:
    """A pre-split sentence with one tag per word (`tags` is None when unlabelled)."""

    guid: str
    words: tuple
    tags: tuple | None = None
    source: str = ""


@dataclasses.dataclass(frozen=True)
class QAExample:
    """A SQuAD question on a context.

    `answers` is a tuple of `(text, char_start)` pairs; empty for an unanswerable
    v2.0 question (`is_impossible`). Training uses the first answer.
    """

    qid: str
    question: str
    context: str
    answers: tuple = ()
    is_impossible: bool = False
    title: str = ""
    source: str = ""


@dataclasses.dataclass
class Features:
    """Model inputs built from examples, before batching.

    Args:
        inputs: `input_ids` and `token_type_ids`, lists of int lists (unpadded).
        labels: what the task's loss takes (None when unlabelled).
        num_examples: how many examples the features came from.
        stats: counts for the summary, e.g. `{"truncated": 3}`.
        meta: what the task needs to map outputs back to examples.
    """

    inputs: dict
    labels: object = None
    num_examples: int = 0
    stats: dict = dataclasses.field(default_factory=dict)
    meta: object = None

    def __len__(self):
        return len(self.inputs["input_ids"])
