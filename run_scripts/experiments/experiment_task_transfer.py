"""Experiment (not CI): does task transfer give a better starting point than random init?

At CPU scale on ../shared/data:
  1. all-MiniLM-L6-v2 is fine-tuned on an SST-2 subset (the source task);
  2. it is distilled into an l6h256 student over SST-2 inputs plus WikiText-2
     sentences, once each from random init, ETD-Rand and ETD-Impt, with the dev
     distillation loss scored every few steps (how many steps each needs to
     reach the same loss);
  3. the ETD-Impt student's encoder (head dropped) is fine-tuned on MRPC and RTE
     (subsets of --target_train examples),
     against the same shape from random init and against the teacher itself
     fine-tuned directly, all with the same recipe.
Prints a table with wall times and writes results.json into --output_dir.

    python run_scripts/experiments/experiment_task_transfer.py --data_dir=../shared/data
"""
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from absl import app, flags  # noqa: E402

import keras  # noqa: E402

from xtremedistil_tf.checkpoints import from_hf  # noqa: E402
from xtremedistil_tf.distill.loss_settings import LossSettings  # noqa: E402
from xtremedistil_tf.distill.student_builder import resolve_teacher  # noqa: E402
from xtremedistil_tf.etd import StudentInitConfig, extract_head, init_student  # noqa: E402
from xtremedistil_tf.etd.width_selection import WidthSelection  # noqa: E402
from xtremedistil_tf.mkd.encoder_export import save_encoder  # noqa: E402
from xtremedistil_tf.mkd.task_transfer import (  # noqa: E402
    build_transfer_set, distill_with_curve, steps_to_reach, student_config_for)
from xtremedistil_tf.mkd.task_transfer_config import TaskTransferConfig, parse_losses  # noqa: E402
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier  # noqa: E402
from xtremedistil_tf.tasks import FinetuneConfig, TaskConfig, finetune, get_task  # noqa: E402
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer  # noqa: E402
from xtremedistil_tf.utils.atomic_io import write_json  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_string("data_dir", "../shared/data", "Folder holding glue/ and wikitext-2/.")
flags.DEFINE_string("output_dir", "outputs/experiment_task_transfer", "Output folder.")
flags.DEFINE_integer("source_train", 2000, "SST-2 training examples (teacher and transfer set).")
flags.DEFINE_integer("teacher_epochs", 2, "Teacher fine-tuning epochs on SST-2.")
flags.DEFINE_float("teacher_learning_rate", 1e-4, "Teacher fine-tuning learning rate.")
flags.DEFINE_integer("augmentation_examples", 1000, "WikiText-2 sentences in the transfer set.")
flags.DEFINE_integer("distill_steps", 150, "Distillation steps per initialisation.")
flags.DEFINE_integer("eval_every", 25, "Steps between dev distillation-loss scores.")
flags.DEFINE_list("target_tasks", ["mrpc:64", "rte:128"],
                  "Target tasks with their max sequence length (MRPC pairs are short).")
flags.DEFINE_integer("target_train", 800, "Training examples per target task.")
flags.DEFINE_integer("target_epochs", 3, "Fine-tuning epochs on the target tasks.")
flags.DEFINE_float("student_learning_rate", 2e-4, "Target fine-tuning rate of the students.")
flags.DEFINE_float("teacher_target_learning_rate", 1e-4,
                   "Target fine-tuning rate of the teacher fine-tuned directly.")
flags.DEFINE_integer("target_eval", 0, "MRPC / RTE dev examples scored (0: all).")
flags.DEFINE_integer("max_seq_length", 64, "SST-2 and transfer-set tokens.")
flags.DEFINE_string("student", "l6h256", "Student preset.")
flags.DEFINE_integer("seed", 42, "Random seed.")

INITS = ("random", "etd_rand", "etd_impt")


def _finetune(name, seq_length, model, tokenizer, out, learning_rate):
    task = get_task(name, TaskConfig(
        data_dir=os.path.join(FLAGS.data_dir, "glue"), max_seq_length=seq_length,
        max_train_samples=FLAGS.target_train, max_eval_samples=FLAGS.target_eval or None,
        seed=FLAGS.seed))
    start = time.time()
    results = finetune(task, model, tokenizer, FinetuneConfig(
        output_dir=out, epochs=FLAGS.target_epochs, learning_rate=learning_rate,
        batch_size=32, seed=FLAGS.seed, save_model=False, verbose=0))
    return results["eval"]["dev"], time.time() - start


def main(argv):
    del argv
    total_start = time.time()
    out = FLAGS.output_dir
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(FLAGS.seed)
    teacher_path = resolve_teacher("minilm")
    base, tokenizer = from_hf(teacher_path)
    task_tokenizer = TaskTokenizer(tokenizer)
    names = ("source_train", "teacher_epochs", "teacher_learning_rate", "augmentation_examples",
             "distill_steps", "eval_every", "target_tasks", "target_train", "target_epochs",
             "target_eval", "student_learning_rate", "teacher_target_learning_rate",
             "max_seq_length", "student", "seed")
    report = {"settings": {k: FLAGS[k].value for k in names}}

    # 1. Teacher on the source task.
    sst2 = get_task("sst2", TaskConfig(
        data_dir=os.path.join(FLAGS.data_dir, "glue"), max_seq_length=FLAGS.max_seq_length,
        max_train_samples=FLAGS.source_train, max_eval_samples=256, seed=FLAGS.seed))
    t0 = time.time()
    tuned = finetune(sst2, base, tokenizer, FinetuneConfig(
        output_dir=os.path.join(out, "teacher_sst2"), epochs=FLAGS.teacher_epochs,
        learning_rate=FLAGS.teacher_learning_rate, batch_size=32,
        seed=FLAGS.seed, save_model=False, verbose=0))
    teacher = tuned["model"]
    report["teacher_sst2"] = {"dev": tuned["eval"]["dev"], "seconds": time.time() - t0}
    print(f"Teacher on SST-2 (dev subset of 256): {tuned['eval']['dev']} "
          f"({time.time() - t0:.0f}s)", flush=True)

    # 2. Distillation from three initialisations.
    config = TaskTransferConfig(
        source_task="sst2", data_dir=os.path.join(FLAGS.data_dir, "glue"),
        max_seq_length=FLAGS.max_seq_length, max_train_samples=FLAGS.source_train,
        max_eval_samples=256, augmentation_data=os.path.join(
            FLAGS.data_dir, "wikitext-2", "wiki.valid.tokens"),
        augmentation_examples=FLAGS.augmentation_examples, student=FLAGS.student,
        seed=FLAGS.seed, output_dir=out)
    train_features, dev_features, counts = build_transfer_set(sst2, config, task_tokenizer)
    report["transfer_set"] = counts
    pad = teacher.encoder.config.pad_token_id
    train_ds = sst2.build_dataset(train_features, 32, pad, shuffle=True, seed=FLAGS.seed,
                                  with_labels=False).repeat()
    dev_ds = sst2.build_dataset(dev_features, 64, pad, with_labels=False)
    student_config = student_config_for(config, teacher.encoder.config)
    losses = parse_losses("logits_kl:1,hidden_mse:1")
    curves, students = {}, {}
    for method in INITS:
        keras.utils.set_random_seed(FLAGS.seed)
        t0 = time.time()
        encoder, info = init_student(StudentInitConfig(method, seed=FLAGS.seed), student_config,
                                     teacher=teacher, batches=train_ds.take(8))
        student = SequenceClassifier(encoder, 2, label_names=teacher.label_names, dropout=0.1)
        student.build()
        if "selection" in info:
            extract_head(teacher.classifier, student.classifier,
                         WidthSelection(**info["selection"]))
        init_seconds = time.time() - t0
        history = distill_with_curve(teacher, student, train_ds, dev_ds, losses, LossSettings(),
                                     FLAGS.distill_steps, 1e-4, FLAGS.distill_steps // 10,
                                     FLAGS.eval_every)
        curves[method] = {"curve": history["curve"], "parts": history["curve_parts"],
                          "init_seconds": init_seconds, "distill_seconds": history["seconds"]}
        students[method] = encoder
        print(f"{method}: dev distillation loss {history['curve'][0][1]:.4f} -> "
              f"{history['curve'][-1][1]:.4f} (init {init_seconds:.0f}s, distil "
              f"{history['seconds']:.0f}s)", flush=True)
    report["distillation"] = curves
    # Two bars: where random init ends, and where ETD-Rand ends.
    targets = {init: curves[init]["curve"][-1][1] for init in ("random", "etd_rand")}
    report["target_losses"] = targets
    paths = save_encoder(students["etd_impt"], tokenizer, out, name="transfer_student")

    # 3. Fine-tuning on the target tasks.
    rows = {}
    targets_tasks = [(t.split(":")[0], int(t.split(":")[1])) for t in FLAGS.target_tasks]
    for name, seq_length in targets_tasks:
        transfer, _ = from_hf(paths["hf"], load_tokenizer=False)
        keras.utils.set_random_seed(FLAGS.seed)
        random_encoder, _ = init_student(StudentInitConfig("random", seed=FLAGS.seed),
                                         student_config)
        fresh_teacher, _ = from_hf(teacher_path, load_tokenizer=False)
        student_lr, teacher_lr = FLAGS.student_learning_rate, FLAGS.teacher_target_learning_rate
        for label, model, lr in (("transfer student (ETD-Impt + distil)", transfer, student_lr),
                                 ("random-init student", random_encoder, student_lr),
                                 ("teacher fine-tuned directly", fresh_teacher, teacher_lr)):
            dev, seconds = _finetune(name, seq_length, model, tokenizer,
                                     os.path.join(out, f"{name}_{label.split()[0]}"), lr)
            rows.setdefault(label, {})[name] = (dev, seconds)
            print(f"{name} / {label}: {dev} ({seconds:.0f}s)", flush=True)
    report["finetune"] = {k: {t: {"dev": d, "seconds": s} for t, (d, s) in v.items()}
                          for k, v in rows.items()}
    report["wall_time_seconds"] = time.time() - total_start
    write_json(os.path.join(out, "results.json"), report)

    print("\n" + "=" * 78)
    print(f"Source: SST-2 ({FLAGS.source_train} train examples); teacher dev accuracy "
          f"{report['teacher_sst2']['dev']['accuracy']:.4f} on 256 dev examples "
          f"({report['teacher_sst2']['seconds']:.0f}s)")
    print(f"Transfer set: {counts}")
    header = "".join(f" {name + ' (s)':>26s}" for name, _ in targets_tasks)
    print(f"\n{'model':38s}{header}")
    for label, scores in rows.items():
        cells = ""
        for name, _ in targets_tasks:
            dev, seconds = scores[name]
            shown = "/".join(f"{dev[k]:.3f}" for k in ("accuracy", "f1") if k in dev)
            cells += f" {shown + f' ({seconds:.0f})':>26s}"
        print(f"{label:38s}{cells}")
    print("(accuracy, and F1 where GLUE reports it; dev sets; wall seconds of fine-tuning)")
    print(f"\n{'init':10s} {'loss@0':>8s} {'final':>8s} {'steps to':>9s} {'steps to':>9s} "
          f"{'init s':>7s} {'distil s':>9s}")
    print(f"{'':28s} {targets['random']:9.4f} {targets['etd_rand']:9.4f}")
    for method, c in curves.items():
        reach = [str(steps_to_reach(c["curve"], t)) for t in targets.values()]
        print(f"{method:10s} {c['curve'][0][1]:8.4f} {c['curve'][-1][1]:8.4f} {reach[0]:>9s} "
              f"{reach[1]:>9s} {c['init_seconds']:7.0f} {c['distill_seconds']:9.0f}")
    print("(dev distillation loss logits_kl + hidden_mse on 256 SST-2 dev inputs; 'None': "
          "not reached within the run)")
    print(f"\nWall time {report['wall_time_seconds'] / 60:.1f} min; details in "
          f"{os.path.join(out, 'results.json')}")


if __name__ == "__main__":
    app.run(main)
