"""Named-entity recognition from CoNLL files or TFDS (CoNLL-2003, WikiANN / XTREME PAN-X)."""
import os

from xtremedistil_tf.models.token_classifier import TokenClassifier
from xtremedistil_tf.tasks import losses
from xtremedistil_tf.tasks.data.batching import IGNORE_INDEX
from xtremedistil_tf.tasks.data.conll_reader import read_conll
from xtremedistil_tf.tasks.data.examples import Features, TokenExample
from xtremedistil_tf.tasks.data.tfds_loader import load_tfds, tfds_label_names
from xtremedistil_tf.tasks.metrics.ner_metrics import entity_scores
from xtremedistil_tf.tasks.task import Task
from xtremedistil_tf.utils.atomic_io import write_text
from xtremedistil_tf.utils.data_error import DataError

# name -> (TFDS name pattern, tag feature, our split -> TFDS split)
_TFDS = {
    "conll2003": ("conll2003", "ner", {"train": "train", "dev": "dev", "test": "test"}),
    "wikiann": ("wikiann/{language}", "tags",
                {"train": "train", "dev": "validation", "test": "test"}),
    "xtreme_panx": ("wikiann/{language}", "tags",
                    {"train": "train", "dev": "validation", "test": "test"}),
}
# Local file names tried in order, per split; `{language}` as for TFDS.
_LOCAL = {
    "train": ("train.txt", "train.tsv", "train-{language}.tsv", "train"),
    "dev": ("valid.txt", "dev.txt", "dev.tsv", "dev-{language}.tsv", "dev"),
    "test": ("test.txt", "test.tsv", "test-{language}.tsv", "test"),
}


class NerTask(Task):
    """Tags words with entity labels; only each word's first subword is trained and read.

    Local files are CoNLL style (`token ... tag` per line, blank line between
    sentences, `-DOCSTART-` lines skipped) named `train.txt`, `valid.txt` (or
    `dev.txt`) and `test.txt`; XTREME PAN-X files (`train-en.tsv`, tokens like
    `en:Paris`) also work. With `data_source="tfds"`: `conll2003` or
    `wikiann/<language>` (PAN-X is the WikiANN data with the same splits).

    Labels are the training tags ("O" first, then sorted) or the TFDS class
    names. Scores are entity-level micro precision, recall and F1: `f1` in
    seqeval strict mode for the tag scheme (IOB2/BIO or IOBES), and
    `conlleval_f1` the lenient conlleval way. The test split is scored too.

    Args:
        name: "conll2003", "conll", "wikiann" or "xtreme_panx".
        config: a `TaskConfig`.
    """

    test_has_labels = True
    per_token_outputs = True

    def __init__(self, name, config):
        if name not in ("conll2003", "conll", "wikiann", "xtreme_panx"):
            raise ValueError(f"NerTask serves conll2003, conll, wikiann and xtreme_panx, "
                             f"not {name!r}.")
        super().__init__(name, config)
        self.label_names = None
        self.scheme = None if config.tag_scheme == "auto" else config.tag_scheme

    # Data.
    def _file(self, split):
        override = {"train": self.config.train_file, "dev": self.config.eval_file,
                    "test": self.config.test_file}[split]
        names = [n.format(language=self.config.language) for n in _LOCAL[split]]
        return self.local_path(names, override)

    def has_split(self, split):
        if self.config.data_source == "tfds":
            return True
        try:
            self._file(split)
        except DataError:
            return False
        return True

    def load_examples(self, split):
        if self.config.data_source == "tfds":
            examples = self._load_tfds(split)
        else:
            examples = read_conll(self._file(split),
                                  strip_language_prefix=self.name == "xtreme_panx")
        return self.subsample(examples, split)

    def _tfds_name(self):
        pattern, feature, splits = _TFDS.get(self.name, _TFDS["conll2003"])
        return pattern.format(language=self.config.language), feature, splits

    def _load_tfds(self, split):
        name, feature, splits = self._tfds_name()
        names = tfds_label_names(name, feature, self.config.data_dir)
        if self.label_names is None:
            self.label_names = names
        examples = []
        for i, record in enumerate(load_tfds(name, splits[split], self.config.data_dir)):
            examples.append(TokenExample(f"{split}-{i}", tuple(record["tokens"]),
                                         tuple(names[t] for t in record[feature]),
                                         f"tfds:{name}/{split}#{i}"))
        return examples

    # Labels.
    def prepare(self, train_examples, model=None):
        if model is not None and getattr(model, "label_names", None) and not train_examples:
            self.label_names = list(model.label_names)
        elif self.label_names is None:
            if not train_examples:
                raise ValueError("NER learns its tags from training data; give training "
                                 "data or a model that stores tag names.")
            tags = {t for e in train_examples for t in e.tags} - {"O"}
            self.label_names = ["O"] + sorted(tags, key=lambda t: (t[2:], t))
        if self.scheme is None:
            iobes = any(t[:2] in ("E-", "S-") for t in self.label_names)
            self.scheme = "IOBES" if iobes else "IOB2"
        self.check_labels(train_examples)

    def check_labels(self, examples):
        known = set(self.label_names)
        for example in examples:
            for position, tag in enumerate(example.tags or ()):
                if tag not in known:
                    path, _, line = example.source.rpartition(":")
                    if line.isdigit():  # Sentences are one word per consecutive line.
                        line = int(line) + position
                    else:
                        path, line = example.source, None
                    raise DataError(path, line, (
                        f"tag {tag!r} (word {example.words[position]!r}) does not occur in "
                        f"the training data, whose tags are {self.label_names}; fix the tag "
                        "or add training sentences with it."))

    # Model.
    def build_model(self, encoder, pooling=None):
        return TokenClassifier(encoder, len(self.label_names), self.label_names,
                               name=f"{self.name}_tagger")

    def accepts_model(self, model):
        return isinstance(model, TokenClassifier) and model.label_names == self.label_names

    # Features.
    def build_features(self, examples, tokenizer, training):
        encoded, truncated = tokenizer.encode_words([e.words for e in examples],
                                                    self.config.max_seq_length)
        index = {t: i for i, t in enumerate(self.label_names)}
        labels = [] if all(e.tags is not None for e in examples) else None
        untokenized = 0
        for example, word_ids in zip(examples, encoded["word_ids"]):
            firsts = _first_subwords(word_ids)
            # A gap in the word ids is a word the tokenizer dropped (e.g. only
            # control characters); truncation only removes words at the end.
            if firsts and len(firsts) < max(firsts.values()) + 1:
                untokenized += 1
            if labels is not None:
                row = [IGNORE_INDEX] * len(word_ids)
                for position, word in firsts.items():
                    row[position] = index[example.tags[word]]
                labels.append(row)
        inputs = {k: encoded[k] for k in ("input_ids", "token_type_ids")}
        stats = {"truncated": truncated, "sentences_with_untokenizable_words": untokenized}
        return Features(inputs, labels, len(examples), stats, meta=encoded["word_ids"])

    def compute_loss(self, labels, outputs, inputs=None):
        return losses.token_classification_loss(labels, outputs["logits"])

    # Evaluation.
    def evaluate(self, examples, features, outputs):
        predictions = []
        for example, word_ids, output in zip(examples, features.meta, outputs):
            tags = ["O"] * len(example.words)  # Words cut off by truncation stay "O".
            best = output["logits"].argmax(axis=-1)
            for position, word in _first_subwords(word_ids).items():
                tags[word] = self.label_names[int(best[position])]
            predictions.append(tags)
        if any(e.tags is None for e in examples):
            return None, predictions
        gold = [list(e.tags) for e in examples]
        strict = entity_scores(gold, predictions, self.scheme, mode="strict")
        lenient = entity_scores(gold, predictions, self.scheme, mode="conlleval")
        correct = sum(int(g == p) for gs, ps in zip(gold, predictions) for g, p in zip(gs, ps))
        total = sum(len(g) for g in gold)
        metrics = {"precision": strict["precision"], "recall": strict["recall"],
                   "f1": strict["f1"], "conlleval_precision": lenient["precision"],
                   "conlleval_recall": lenient["recall"], "conlleval_f1": lenient["f1"],
                   "token_accuracy": correct / total if total else 0.0,
                   "score": strict["f1"], "per_type": strict["per_type"]}
        return metrics, predictions

    def write_predictions(self, folder, split, examples, predictions):
        lines = []
        for example, tags in zip(examples, predictions):
            gold = example.tags or ["-"] * len(tags)
            lines += [f"{w} {g} {p}" for w, g, p in zip(example.words, gold, tags)]
            lines.append("")
        path = os.path.join(folder, f"{split}_predictions.txt")
        write_text(path, "\n".join(lines))
        return [path]

    def describe(self):
        source = "TFDS" if self.config.data_source == "tfds" else "CoNLL files"
        return (f"NER {self.name} from {source}, {len(self.label_names or [])} tags, "
                f"scheme {self.scheme}")


def _first_subwords(word_ids):
    """Token position of each word's first subword: `{position: word_index}`."""
    firsts, previous = {}, None
    for position, word in enumerate(word_ids):
        if word is not None and word != previous:
            firsts[position] = word
        previous = word
    return firsts

