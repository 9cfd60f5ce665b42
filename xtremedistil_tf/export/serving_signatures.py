"""Builds the SavedModel signatures (token ids in, text in) with `keras.export.ExportArchive`."""
import keras
import tensorflow as tf

from xtremedistil_tf.export.serving_head import INPUT_NAMES
from xtremedistil_tf.export.text_outputs import (
    TEXT_OUTPUTS, question_answering_text, token_classification_text)

SIGNATURE_IDS = "serving_default"
SIGNATURE_TEXT = "serve_text"
SIGNATURE_TEXT_PAIR = "serve_text_pair"
# Which text signatures make sense per kind: QA needs (question, context); tagging one text.
TEXT_SIGNATURES = {
    "encoder": (SIGNATURE_TEXT, SIGNATURE_TEXT_PAIR),
    "classifier": (SIGNATURE_TEXT, SIGNATURE_TEXT_PAIR),
    "regression": (SIGNATURE_TEXT, SIGNATURE_TEXT_PAIR),
    "question_answering": (SIGNATURE_TEXT_PAIR,),
    "token_classification": (SIGNATURE_TEXT,),
}


def ids_input_signature(seq_length=None, batch_size=None):
    """int32 `[batch_size, seq_length]` specs named like the encoder's inputs."""
    return [tf.TensorSpec([batch_size, seq_length], tf.int32, name=name)
            for name in INPUT_NAMES]


def text_input_signature(signature, batch_size=None):
    names = ("text", "text_pair") if signature == SIGNATURE_TEXT_PAIR else ("text",)
    return [tf.TensorSpec([batch_size], tf.string, name=name) for name in names]


def build_archive(head, graph_tokenizer=None, seq_length=None, text_signatures=None,
                  batch_size=None):
    """An `ExportArchive` holding `head`'s model behind named signatures.

    Args:
        head: a `ServingHead`.
        graph_tokenizer: a Keras layer mapping a string tensor (and optionally a
            second one) to the int32 input dict; `None` exports token ids only.
        seq_length: fixed width of the token-ids inputs, or `None` for any width.
            LiteRT needs a fixed width; the text signatures always produce the
            tokenizer's `max_length`.
        text_signatures: names of the text signatures to add; `None` means all
            that suit the head's kind (`TEXT_SIGNATURES`).
        batch_size: fixed batch of every signature, or `None` for any batch
            (LiteRT lowers a BiLSTM's recurrence only with a fixed batch).

    Signatures: `serving_default` takes `input_ids`, `attention_mask`,
    `token_type_ids` (int32 `[batch, seq]`); `serve_text` takes `text` (string
    `[batch]`); `serve_text_pair` takes `text` and `text_pair`. All return the
    head's outputs; with a WordPiece tokenizer the text signatures of question
    answering and token classification add `TEXT_OUTPUTS` (the answer cut from
    `text_pair`; one tag per word of `text`).
    """
    # No `archive.track(model)`: endpoints already capture the variables they read,
    # and tracking the model as well stores every weight twice in the SavedModel.
    archive = keras.export.ExportArchive()

    def serve_ids(input_ids, attention_mask, token_type_ids):
        return head({"input_ids": input_ids, "attention_mask": attention_mask,
                     "token_type_ids": token_type_ids})

    archive.add_endpoint(SIGNATURE_IDS, serve_ids,
                         input_signature=ids_input_signature(seq_length, batch_size))
    if graph_tokenizer is None:
        return archive
    if text_signatures is None:
        text_signatures = TEXT_SIGNATURES[head.kind]

    def serve_text(text):
        return _text_call(head, graph_tokenizer, text)

    def serve_text_pair(text, text_pair):
        return _text_call(head, graph_tokenizer, text, text_pair)

    functions = {SIGNATURE_TEXT: serve_text, SIGNATURE_TEXT_PAIR: serve_text_pair}
    for name in text_signatures:
        archive.add_endpoint(name, functions[name],
                             input_signature=text_input_signature(name, batch_size))
    return archive


def _text_call(head, graph_tokenizer, text, text_pair=None):
    """The head's outputs on text, plus answers or word tags as text where they apply."""
    if head.kind not in TEXT_OUTPUTS or not graph_tokenizer.supports_offsets:
        return head(graph_tokenizer(text, text_pair))
    encoded = graph_tokenizer.tokenize_with_offsets(text, text_pair)
    outputs = head(encoded)
    if head.kind == "question_answering":
        context, segment = (text, 0) if text_pair is None else (text_pair, 1)
        outputs.update(question_answering_text(outputs, encoded, context, segment))
    else:
        outputs.update(token_classification_text(
            outputs, encoded, graph_tokenizer.split_words(text), head.label_names))
    return outputs
