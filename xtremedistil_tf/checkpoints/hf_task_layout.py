"""How task models map to Hugging Face `*For<Task>` checkpoints, in both directions.

The loader and the writer both take tensor names from `task_weight_map`, so the
two directions cannot drift apart. What differs between families is only the
sequence-classification head:

- BERT: the pooler (dense + tanh on the first token), then `classifier`.
- RoBERTa / XLM-R: `classifier.dense` + tanh + `classifier.out_proj` on the
  first token, and no pooler.
- ELECTRA: `classifier.dense` + gelu + `classifier.out_proj` on the first token.

Token classification is `classifier` on every token and question answering is
`qa_outputs` (start, end) on every token, in all four families.
"""
from xtremedistil_tf.checkpoints.hf_weights import dense_entries, weight_map
from xtremedistil_tf.models.question_answerer import QuestionAnswerer
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.models.token_classifier import TokenClassifier

# Class-name prefix, and the attribute that holds the encoder in HF task models.
FAMILIES = {"bert": ("Bert", "bert"), "roberta": ("Roberta", "roberta"),
            "xlm-roberta": ("XLMRoberta", "roberta"), "electra": ("Electra", "electra")}
HEAD_KINDS = {"SequenceClassification": SequenceClassifier,
              "TokenClassification": TokenClassifier,
              "QuestionAnswering": QuestionAnswerer}
# The activation after the hidden dense layer of each family's sequence head.
SEQUENCE_HEAD_ACTIVATION = {"bert": "tanh", "roberta": "tanh", "xlm-roberta": "tanh",
                            "electra": "gelu"}


def find_head_kind(architectures):
    """The first supported head kind named in `architectures`, or None."""
    for name in architectures or ():
        for kind in HEAD_KINDS:
            if str(name).endswith("For" + kind):
                return kind
    return None


def no_task_head_error(where, found):
    """The error for a checkpoint that is a bare encoder, not a task model."""
    return ValueError(
        f"{where!r} has no task head ({found}; supported: "
        + ", ".join(f"*For{k}" for k in HEAD_KINDS)
        + "): load its encoder with from_hf, or fine-tune it first "
        "(run_scripts/run_finetune.py).")


def head_kind_of(model):
    """The HF head kind of a task model; raises for anything else."""
    for kind, cls in HEAD_KINDS.items():
        if isinstance(model, cls):
            return kind
    raise ValueError(
        f"Cannot write a {type(model).__name__} as a Hugging Face task checkpoint: only "
        f"{', '.join(c.__name__ for c in HEAD_KINDS.values())} have HF task heads. For a "
        "bare Encoder use to_hf.")


def architecture_of(model):
    """e.g. 'RobertaForTokenClassification'."""
    return FAMILIES[model.encoder.config.model_type][0] + "For" + head_kind_of(model)


def sequence_head_layers(model):
    """`(dense, out)` such that HF computes `out(act(dense(first_token)))`.

    Our heads that compute the same logits at inference map onto the family's
    HF head; dropout sits in different places, which only training sees.
    Raises `ValueError` saying why when the head has no HF form.
    """
    encoder = model.encoder
    model_type = encoder.config.model_type
    wanted = SEQUENCE_HEAD_ACTIVATION[model_type]
    pooler = encoder.pooler if model.pooling == "pooled_output" else None
    if model.pooling == "mean":
        problem = "pooling='mean' (HF sequence heads read the first token only)"
    elif pooler is not None and model.head_dense is not None:
        problem = "two dense layers (the encoder's pooler, then head_dense)"
    elif pooler is not None:
        dense, activation = pooler, "tanh"
        problem = None if activation == wanted else f"a tanh pooler where {model_type} uses gelu"
    elif model.head_dense is not None:
        dense, activation = model.head_dense, model.head_activation
        problem = None if activation == wanted else (
            f"head_activation={activation!r} where {model_type} uses {wanted!r}")
    else:
        problem = "a single Dense on the first token (HF adds a hidden dense layer)"
    if problem is not None:
        raise ValueError(
            f"This SequenceClassifier has {problem}, so no {model_type} "
            f"*ForSequenceClassification computes the same logits. Heads that export: "
            f"pooling='first' with head_activation={wanted!r}"
            + (", or the default head on an encoder with a pooler" if wanted == "tanh" else "")
            + ". Export the encoder alone with to_hf instead.")
    return dense, model.classifier


def task_weight_map(model):
    """`(hf_name, variable, is_kernel)` for every tensor of a built task model.

    Names are those of the HF task model, e.g. `roberta.encoder.layer.0...` and
    `classifier.out_proj.weight`. The encoder's own pooler appears only where
    the HF model has one (BERT sequence classification).
    """
    if not model.built:
        model.build()
    kind = head_kind_of(model)
    model_type = model.encoder.config.model_type
    prefix = FAMILIES[model_type][1]
    entries = [(f"{prefix}.{name}", variable, is_kernel)
               for name, variable, is_kernel in weight_map(model.encoder)
               if not name.startswith("pooler.")]
    if kind == "QuestionAnswering":
        return entries + dense_entries("qa_outputs", model.span_head)
    if kind == "TokenClassification":
        return entries + dense_entries("classifier", model.classifier)
    dense, out = sequence_head_layers(model)
    if model_type == "bert":
        return (entries + dense_entries("bert.pooler.dense", dense)
                + dense_entries("classifier", out))
    return (entries + dense_entries("classifier.dense", dense)
            + dense_entries("classifier.out_proj", out))


def task_hf_config(model):
    """The contents of the HF `config.json` for a task model."""
    kind = head_kind_of(model)
    out = model.encoder.config.to_hf_dict()
    out["architectures"] = [architecture_of(model)]
    if kind == "QuestionAnswering":
        names = ["LABEL_0", "LABEL_1"]  # HF's qa_outputs has num_labels=2 outputs.
    else:
        out["classifier_dropout"] = model.dropout_rate
        names = model.label_names or [f"LABEL_{i}" for i in range(model.num_labels)]
    if kind == "SequenceClassification":
        if model.problem_type == "single_label_classification" and model.num_labels == 1:
            raise ValueError(
                "num_labels=1 with problem_type='single_label_classification' has no HF "
                "form (transformers rejects it); use problem_type='regression' or 2 labels.")
        out["problem_type"] = model.problem_type
    out["id2label"] = dict(enumerate(names))
    out["label2id"] = {name: i for i, name in enumerate(names)}
    out["num_labels"] = len(names)
    return out
