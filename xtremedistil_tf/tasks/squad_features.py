"""SQuAD inputs: question plus a sliding window over the context, with answer positions."""
import collections

import numpy as np

from xtremedistil_tf.tasks.data.examples import Features
from xtremedistil_tf.utils.data_error import DataError

#: Where one window sits: its example, the position of its first context token in
#: the input, the context tokens it covers `[start, start + length)`, and which
#: of those tokens have their widest surrounding context in this window.
Window = collections.namedtuple("Window", "example_index context_position start length "
                                "max_context")


def window_starts(num_tokens, window_length, doc_stride):
    """Starts of windows of `window_length` tokens, `doc_stride` apart, covering all tokens."""
    starts, start = [], 0
    while True:
        starts.append(start)
        if start + window_length >= num_tokens:
            return starts
        start += min(window_length, doc_stride)


def _max_context(starts, window_length, num_tokens):
    """For each window, whether each of its tokens is best centred in that window."""
    best_score = np.full(num_tokens, -1.0)
    best_window = np.zeros(num_tokens, np.int64)
    for w, start in enumerate(starts):
        length = min(window_length, num_tokens - start)
        j = np.arange(start, start + length)
        score = np.minimum(j - start, start + length - 1 - j) + 0.01 * length
        better = score > best_score[j]
        best_score[j[better]] = score[better]
        best_window[j[better]] = w
    return [best_window[s:s + min(window_length, num_tokens - s)] == w
            for w, s in enumerate(starts)]


def answer_token_span(offsets, char_start, char_end):
    """First and last context tokens overlapping the characters `[char_start, char_end)`."""
    first = last = None
    for i, (a, b) in enumerate(offsets):
        if first is None and b > char_start:
            first = i
        if a < char_end:
            last = i
    return first, last


def build_squad_features(examples, tokenizer, max_seq_length, doc_stride, max_query_length,
                         training):
    """Encodes every question with each window of its context.

    Args:
        examples: `QAExample`s.
        tokenizer: a `TaskTokenizer`.
        max_seq_length: length of every input, special tokens included.
        doc_stride: context tokens between the starts of neighbouring windows.
        max_query_length: questions are cut to this many tokens.
        training: label each window with the answer's token positions; a window
            that does not hold the whole answer (or an unanswerable question)
            points at the first token, which stands for "no answer".

    Returns `Features` whose `meta` is `{"windows": [Window], "offsets": [list]}`
    (character offsets of each example's context tokens).
    """
    template = tokenizer.pair_template()
    prefix_ids, prefix_types = template["prefix"]
    middle_ids, middle_types = template["middle"]
    suffix_ids, suffix_types = template["suffix"]
    num_special = len(prefix_ids) + len(middle_ids) + len(suffix_ids)

    questions = tokenizer.encode_raw([e.question for e in examples])
    unique_contexts = list(dict.fromkeys(e.context for e in examples))
    context_encodings = dict(zip(unique_contexts, tokenizer.encode_raw(unique_contexts)))

    ids, types, windows, offsets = [], [], [], []
    positions = []
    stats = collections.Counter()
    for index, (example, question) in enumerate(zip(examples, questions)):
        q_ids = question.ids[:max_query_length]
        stats["questions_truncated"] += len(question.ids) > max_query_length
        context = context_encodings[example.context]
        c_ids, c_offsets = context.ids, context.offsets
        offsets.append(c_offsets)
        window_length = max_seq_length - len(q_ids) - num_special
        if window_length < 1:
            raise ValueError(f"max_seq_length={max_seq_length} leaves no room for context "
                             f"after a {len(q_ids)}-token question and {num_special} special "
                             "tokens; raise max_seq_length or lower max_query_length.")
        starts = window_starts(len(c_ids), window_length, doc_stride)
        stats["examples_windowed"] += len(starts) > 1
        span = None
        if training and example.answers:
            text, char_start = example.answers[0]
            span = answer_token_span(c_offsets, char_start, char_start + len(text))
            if span[0] is None or span[1] is None or span[1] < span[0]:
                raise DataError.at(example.source, (
                    f"answer {text!r} at character {char_start} covers no context token; "
                    "fix answer_start or the answer text."))
        position = len(prefix_ids) + len(q_ids) + len(middle_ids)
        for start, max_context in zip(starts, _max_context(starts, window_length, len(c_ids))):
            length = len(max_context)
            ids.append(prefix_ids + q_ids + middle_ids + c_ids[start:start + length]
                       + suffix_ids)
            types.append(prefix_types + [template["first_type"]] * len(q_ids) + middle_types
                         + [template["second_type"]] * length + suffix_types)
            windows.append(Window(index, position, start, length, max_context))
            if training:
                if span is not None and span[0] >= start and span[1] < start + length:
                    positions.append((position + span[0] - start, position + span[1] - start))
                else:
                    positions.append((0, 0))
                    stats["windows_without_answer"] += 1
    labels = None
    if training:
        positions = np.array(positions, np.int32).reshape(-1, 2)
        labels = {"start_positions": positions[:, 0], "end_positions": positions[:, 1]}
    stats["windows"] = len(ids)
    return Features({"input_ids": ids, "token_type_ids": types}, labels, len(examples),
                    dict(stats), meta={"windows": windows, "offsets": offsets})
