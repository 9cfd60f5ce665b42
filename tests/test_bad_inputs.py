"""Entry scripts fail on bad input with one line that names the file or flag at fault.

Each case runs a script on one bad input and expects a non-zero exit code, one
`<script>: error: <message>` line on stderr whose message names the file or flag
(`expect`), no traceback, and the files an earlier run left in the output folder
unchanged, with nothing added beside them.

TensorFlow takes seconds to start, so the cases of one script run one after the
other in one child process (`python -m tests.script_cases` runs each as `python <script>`
would) and the scripts' children run side by side.
"""
import dataclasses
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FINETUNE = "run_scripts/run_finetune.py"
EXPORT = "run_scripts/run_export.py"
DISTILL = "run_distill.py"
MKD = "run_scripts/run_mkd.py"
TRANSFER = "run_scripts/run_task_transfer.py"
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "film", "was", "good", "bad", "plot", "john", "paris", "visited", "."]
VOCAB = SPECIAL + WORDS + [f"word{i}" for i in range(99 - len(SPECIAL) - len(WORDS))]
# What an earlier, successful run left in its output folder.
EARLIER = {
    FINETUNE: ("flags.cfg", "config.json", "results.json"),
    EXPORT: ("tiny/1/saved_model.pb", "tiny/reports/1/export_report.json"),
    DISTILL: ("flags.cfg", "config.json", "metrics.json"),
    MKD: ("flags.cfg", "config.json"),
    TRANSFER: ("flags.cfg", "config.json", "metrics.json"),
}


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input: `args` may use `{root}` (the inputs) and `{out}` (the output folder)."""

    id: str
    script: str
    args: tuple
    expect: str  # text the error line must contain: the file or flag at fault
    writes_output: bool = False  # the failure comes during the run (NaN loss)
    pending: str = ""  # why the case fails today, until the named file is changed


def _override(base, args):
    """The `base` command line with the flags `args` name replaced by theirs."""
    names = {a.split("=")[0] for a in args}
    return tuple(a for a in base if a.split("=")[0] not in names) + args


def _finetune(*args, data="glue", task="sst2", init="hf"):
    return _override((f"--task={task}", f"--init_checkpoint={{root}}/{init}",
                      f"--data_dir={{root}}/{data}", "--output_dir={out}",
                      "--max_seq_length=16", "--num_train_epochs=1", "--batch_size=4",
                      "--verbose=0"), args)


def _export(*args):
    return _override(("--model={root}/hf", "--output_dir={out}", "--model_name=tiny",
                      "--formats=saved_model", "--max_seq_length=16",
                      "--num_parity_examples=2"), args)


def _distill(*args):
    return _override(("--teacher={root}/hf", "--student=tiny", "--student_init=random",
                      "--transfer_data={root}/transfer.txt", "--max_seq_length=16",
                      "--batch_size=4", "--dev_fraction=0", "--heldout_examples=0",
                      "--num_relation_heads=4", "--stages=representation",
                      "--representation_losses=hidden_mse:1", "--representation_max_steps=4",
                      "--checkpoint_every=0", "--verbose=0", "--strategy=one_device",
                      "--output_dir={out}"), args)


CASES = [
    # run_finetune.py
    Case("unknown_task", FINETUNE, _finetune("--task=sst3"), "--task=sst3"),
    Case("missing_required_flag", FINETUNE,
         tuple(a for a in _finetune() if not a.startswith("--output_dir")), "--output_dir"),
    Case("stray_argument", FINETUNE, _finetune("3"), "unexpected arguments ['3']"),
    Case("missing_flagfile", FINETUNE, _finetune("--flagfile={root}/none.cfg"), "none.cfg"),
    Case("contradicting_flags", FINETUNE, _finetune("--text_column=review"), "--text_column"),
    Case("missing_glue_file", FINETUNE, _finetune(data="empty_dir"), "empty_dir/SST-2/train.tsv"),
    Case("tsv_wrong_columns", FINETUNE, _finetune(data="glue_bad_columns"),
         "glue_bad_columns/SST-2/train.tsv:4"),
    Case("tsv_not_utf8", FINETUNE, _finetune(data="glue_latin1"), "glue_latin1/SST-2/train.tsv:2"),
    Case("unknown_label", FINETUNE, _finetune(data="glue_bad_label"),
         "glue_bad_label/SST-2/dev.tsv:3"),
    Case("squad_truncated_json", FINETUNE,
         _finetune("--max_query_length=6", "--doc_stride=4", task="squad_v1", data="squad"),
         "squad/train-v1.1.json:"),
    Case("conll_missing_tag", FINETUNE, _finetune(task="conll2003", data="conll"),
         "conll/train.txt:2"),
    Case("jsonl_broken_line", FINETUNE,
         _finetune("--train_file={root}/user/train.jsonl", "--eval_file={root}/user/dev.jsonl",
                   "--data_dir=", task="text_classification"), "user/train.jsonl:2"),
    Case("checkpoint_missing", FINETUNE, _finetune(init="nowhere"), "nowhere"),
    Case("keras_file_corrupt", FINETUNE, _finetune(init="not_a_model.keras"),
         "not_a_model.keras"),
    Case("checkpoint_without_config", FINETUNE, _finetune(init="hf_no_config"),
         "hf_no_config"),
    Case("config_json_broken", FINETUNE, _finetune(init="hf_bad_config"),
         "hf_bad_config/config.json:1"),
    Case("wrong_vocab", FINETUNE, _finetune("--tokenizer={root}/big_tokenizer"), "big_tokenizer"),
    Case("sequence_too_long", FINETUNE, _finetune("--max_seq_length=500"),
         "--max_seq_length=500"),
    Case("output_dir_unwritable", FINETUNE, _finetune("--output_dir={root}/a_file/out"),
         "--output_dir="),
    Case("evaluate_an_encoder", FINETUNE, _finetune("--num_train_epochs=0"),
         "--num_train_epochs=0"),
    Case("renamed_flag", FINETUNE, _finetune("--epochs=2"),
         "--epochs was renamed --num_train_epochs"),
    Case("renamed_flag_in_flagfile", FINETUNE, _finetune("--flagfile={root}/old_names.cfg"),
         "--warmup_proportion was renamed --warmup_ratio"),
    Case("finetune_nan_loss", FINETUNE,
         _finetune("--learning_rate=1e30", "--warmup_ratio=0", "--batch_size=1"), "loss",
         writes_output=True),
    # run_export.py
    Case("unknown_format", EXPORT, _export("--formats=saved_model,onnx"), "onnx"),
    Case("model_missing", EXPORT, _export("--model={root}/nowhere"), "nowhere"),
    Case("dev_file_missing", EXPORT, _export("--dev_file={root}/none.tsv"), "--dev_file="),
    Case("label_without_dev_file", EXPORT, _export("--label_column=label"), "--label_column"),
    Case("dev_jsonl_broken", EXPORT, _export("--dev_file={root}/user/train.jsonl",
                                             "--text_column=text"), "user/train.jsonl:2"),
    Case("representative_not_utf8", EXPORT,
         _export("--representative_file={root}/latin1.txt", "--formats=litert_int8_full"),
         "latin1.txt:2"),
    Case("export_config_json_broken", EXPORT, _export("--model={root}/hf_bad_config"),
         "hf_bad_config/config.json:1"),
    Case("export_sequence_too_long", EXPORT, _export("--max_seq_length=500"),
         "--max_seq_length"),
    Case("version_taken", EXPORT, _export("--version=1"), "--overwrite"),
    Case("export_unwritable", EXPORT, _export("--output_dir={root}/a_file/out"), "--output_dir="),
    # run_distill.py
    Case("unknown_stage", DISTILL, _distill("--stages=representation,pretraining"),
         "--stages"),
    Case("unknown_preset", DISTILL, _distill("--student=l99h7"), "l99h7"),
    Case("teacher_without_config", DISTILL, _distill("--teacher={root}/hf_no_config"),
         "hf_no_config"),
    Case("distill_unwritable", DISTILL, _distill("--output_dir={root}/a_file/out"),
         "--output_dir="),
    Case("transfer_text_not_utf8", DISTILL, _distill("--transfer_data={root}/latin1.txt"),
         "latin1.txt:2"),
    Case("transfer_task_table", DISTILL, _distill("--transfer_data={root}/glue/SST-2/train.tsv"),
         "SST-2/train.tsv"),
    Case("nan_loss", DISTILL, _distill("--representation_learning_rate=1e30"), "loss became",
         writes_output=True),
    # run_mkd.py, run_task_transfer.py (run_distill.py with a recipe)
    Case("unknown_task_in_list", MKD, ("--tasks=sst2,sst9", "--data_dir={root}/glue",
                                       "--output_dir={out}"), "sst9"),
    Case("mkd_missing_glue_file", MKD,
         ("--tasks=sst2", "--data_dir={root}/empty_dir", "--teacher={root}/hf",
          "--student=tiny", "--output_dir={out}"), "empty_dir/SST-2/train.tsv"),
    Case("mkd_unwritable", MKD, ("--tasks=sst2", "--data_dir={root}/glue",
                                 "--output_dir={root}/a_file/out"), "--output_dir="),
    Case("unknown_source_task", TRANSFER, ("--source_task=sst9", "--data_dir={root}/glue",
                                           "--output_dir={out}"), "sst9"),
    Case("transfer_missing_glue_file", TRANSFER,
         ("--data_dir={root}/empty_dir", "--teacher={root}/hf", "--student=tiny",
          "--output_dir={out}"), "empty_dir/SST-2/train.tsv"),
]


def _write(path, text, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


def _make_inputs(root):
    """Tiny model folders and data files, good and bad, under `root`."""
    from xtremedistil_tf import Encoder, get_preset
    from xtremedistil_tf.checkpoints import to_hf
    from xtremedistil_tf.tokenizers import Tokenizer

    encoder = Encoder(get_preset("tiny"))
    encoder.build()
    hf = os.path.join(root, "hf")
    to_hf(encoder, Tokenizer.from_vocab(VOCAB), hf)
    for name in ("hf_no_config", "hf_bad_config"):
        for file in os.listdir(hf):
            if file != "config.json":
                with open(os.path.join(hf, file), "rb") as f:
                    _write(os.path.join(root, name, file), f.read(), "wb")
    _write(os.path.join(root, "hf_bad_config", "config.json"), '{"model_type": "bert",}\n')
    Tokenizer.from_vocab(SPECIAL + [f"w{i}" for i in range(145)]).save(
        os.path.join(root, "big_tokenizer"))

    good = "sentence\tlabel\nthe film was good\t1\nthe plot was bad\t0\n"
    for name in ("glue", "glue_bad_columns", "glue_latin1", "glue_bad_label"):
        _write(os.path.join(root, name, "SST-2", "train.tsv"), good)
        _write(os.path.join(root, name, "SST-2", "dev.tsv"), good)
    _write(os.path.join(root, "glue_bad_columns", "SST-2", "train.tsv"),
           good + "a\tfilm\t1\n")
    _write(os.path.join(root, "glue_latin1", "SST-2", "train.tsv"),
           b"sentence\tlabel\ncaf\xe9 film\t1\n", "wb")
    _write(os.path.join(root, "glue_bad_label", "SST-2", "dev.tsv"),
           "sentence\tlabel\nthe film\t1\nthe plot\tneutral\n")
    os.makedirs(os.path.join(root, "empty_dir"))
    squad = '{"version": "1.1", "data": [{"title": "t", "paragraphs": [\n'
    for name in ("train-v1.1.json", "dev-v1.1.json"):
        _write(os.path.join(root, "squad", name), squad)
    for name in ("train.txt", "valid.txt"):
        _write(os.path.join(root, "conll", name), "john NNP B-PER\nvisited\nparis NNP B-LOC\n")
    _write(os.path.join(root, "user", "train.jsonl"),
           '{"text": "the film", "label": "good"}\n{"text": "the plot", "label": bad}\n')
    _write(os.path.join(root, "user", "dev.jsonl"), '{"text": "the film", "label": "good"}\n')
    _write(os.path.join(root, "latin1.txt"), b"the film\ncaf\xe9\n", "wb")
    _write(os.path.join(root, "a_file"), "a file, not a folder\n")
    _write(os.path.join(root, "old_names.cfg"), "--warmup_proportion=0.1\n")
    _write(os.path.join(root, "not_a_model.keras"), "not a zip file\n")
    _write(os.path.join(root, "transfer.txt"), "the film was good\nthe plot was bad\n" * 8)


def _snapshot(folder):
    files = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(parent, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    return files


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Runs every case; returns `{case id: (result, output folder before, after)}`."""
    root = str(tmp_path_factory.mktemp("inputs"))
    _make_inputs(root)
    work = tmp_path_factory.mktemp("runs")
    by_script, before = {}, {}
    for case in CASES:
        out = os.path.join(work, case.id)
        for name in EARLIER[case.script]:
            _write(os.path.join(out, name), f"written by an earlier run of {case.script}\n")
        before[case.id] = _snapshot(out)
        args = [a.format(root=root, out=out) for a in case.args]
        by_script.setdefault(case.script, []).append((case, args))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    env.pop("XTREMEDISTIL_TF_TRACEBACK", None)
    procs = []
    for script, cases in by_script.items():
        stem = os.path.splitext(os.path.basename(script))[0]
        cases_file, results_file = work / f"{stem}.cases.json", work / f"{stem}.results.json"
        cases_file.write_text(json.dumps([[script, args] for _, args in cases]))
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.script_cases", str(cases_file), str(results_file)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append((proc, cases, results_file))
    outcomes = {}
    for proc, cases, results_file in procs:
        log, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, log[-3000:]
        results = json.loads(results_file.read_text())
        for (case, _), result in zip(cases, results):
            out = os.path.join(work, case.id)
            outcomes[case.id] = (result, before[case.id], _snapshot(out))
    return outcomes


def test_at_least_twenty_kinds_across_the_entry_scripts():
    assert len(CASES) >= 20 and len({c.id for c in CASES}) == len(CASES)
    assert {c.script for c in CASES} == set(EARLIER)


@pytest.mark.slow
@pytest.mark.parametrize("case", [
    pytest.param(c, id=c.id, marks=[pytest.mark.xfail(reason=c.pending)] if c.pending else [])
    for c in CASES])
def test_bad_input_is_one_line_naming_the_culprit(case, outcomes):
    result, before, after = outcomes[case.id]
    stderr = result["stderr"]
    script = os.path.basename(case.script)
    assert result["exit_code"] != 0, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    errors = [line for line in stderr.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith(f"{script}: error: "), stderr[-2000:]
    assert case.expect in errors[0], errors[0]
    for name, content in before.items():
        assert after.get(name) == content, f"{name} of the earlier run was changed"
    if not case.writes_output:
        assert sorted(after) == sorted(before), f"new files: {sorted(set(after) - set(before))}"
