"""An MKD run: teachers per task, one multi-task student, a task-agnostic encoder."""
import os
import time

import keras

from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.distill.loss_settings import LossSettings
from xtremedistil_tf.distill.student_builder import resolve_teacher
from xtremedistil_tf.etd.student_init import init_student
from xtremedistil_tf.mkd.encoder_export import save_encoder
from xtremedistil_tf.mkd.multi_task_distiller import MultiTaskDistiller
from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel
from xtremedistil_tf.mkd.task_sampler import TaskSampler
from xtremedistil_tf.mkd.task_transfer import student_config_for
from xtremedistil_tf.mkd.task_transfer_config import parse_losses
from xtremedistil_tf.models.bilstm_student import BiLSTMStudent
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.tasks import FinetuneConfig, TaskConfig, finetune, get_task
from xtremedistil_tf.tasks.classification_task import ClassificationTask
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer
from xtremedistil_tf.training.optimization import create_optimizer
from xtremedistil_tf.utils.atomic_io import atomic_path, write_json


def _log(config, message):
    if config.verbose:
        print(message, flush=True)


def _load_teachers(config, tasks, train_examples, tokenizer):
    """A dict task -> teacher with `logits`, or one multi-task teacher."""
    if config.multi_task_teacher:
        teacher = keras.models.load_model(config.multi_task_teacher)
        if not isinstance(teacher, MultiTaskModel):
            raise ValueError(f"multi_task_teacher {config.multi_task_teacher!r} holds a "
                             f"{type(teacher).__name__}, not a MultiTaskModel.")
        return teacher, {}
    teachers, evals = {}, {}
    given = dict(config.teacher_checkpoints)
    for name, task in tasks.items():
        if name in given:
            teachers[name] = keras.models.load_model(given[name])
            continue
        if not config.teacher_epochs:
            raise ValueError(f"No teacher for task {name!r}: give it in teacher_checkpoints "
                             "or set teacher_epochs >= 1 to fine-tune one.")
        _log(config, f"Fine-tuning the teacher of {name} ...")
        encoder, _ = from_hf(resolve_teacher(config.teacher), load_tokenizer=False)
        tuned = finetune(task, encoder, tokenizer, FinetuneConfig(
            output_dir=os.path.join(config.output_dir, "teachers", name),
            epochs=config.teacher_epochs, learning_rate=config.teacher_learning_rate,
            batch_size=config.batch_size, seed=config.seed, verbose=config.verbose))
        teachers[name] = tuned["model"]
        evals[name] = tuned["eval"]
    for name, teacher in teachers.items():
        if not isinstance(teacher, SequenceClassifier):
            raise ValueError(f"The teacher of {name!r} is a {type(teacher).__name__}; MKD "
                             "distils classification or regression teachers only.")
    return teachers, evals


def _num_outputs(teachers, name):
    if isinstance(teachers, MultiTaskModel):
        return teachers.tasks[name]
    return teachers[name].num_labels


def run_mkd(config):
    """Runs multi-task distillation as `config` (an `MKDConfig`) says.

    Returns the results dict also written to `<output_dir>/metrics.json`; the
    shared encoder is saved as `encoder.keras` (and `encoder_hf/` for a
    transformer), the whole student as `multi_task_student.keras`.
    """
    config = config.validate()
    start = time.time()
    keras.utils.set_random_seed(config.seed)
    os.makedirs(config.output_dir, exist_ok=True)
    write_json(os.path.join(config.output_dir, "config.json"), config.to_dict())
    base_encoder, tokenizer = from_hf(resolve_teacher(config.teacher))
    task_config = TaskConfig(data_dir=config.data_dir, data_source=config.data_source,
                             max_seq_length=config.max_seq_length,
                             max_train_samples=config.max_train_samples,
                             max_eval_samples=config.max_eval_samples, seed=config.seed)
    tasks, train_examples = {}, {}
    for name in config.tasks:
        task = get_task(name, task_config)
        if not isinstance(task, ClassificationTask):
            raise ValueError(f"Task {name!r} is a {type(task).__name__}; MKD distils "
                             "classification and regression tasks (GLUE, text_classification).")
        train_examples[name] = task.subsample(task.load_examples("train"), "train")
        task.prepare(train_examples[name])
        tasks[name] = task
    teachers, teacher_evals = _load_teachers(config, tasks, train_examples, tokenizer)

    task_tokenizer = TaskTokenizer(tokenizer)
    pad_id = base_encoder.config.pad_token_id
    datasets, sizes = {}, {}
    for name, task in tasks.items():
        features = task.build_features(train_examples[name], task_tokenizer, training=True)
        sizes[name] = len(features)
        datasets[name] = task.build_dataset(features, config.batch_size, pad_id, shuffle=True,
                                            seed=config.seed).repeat()

    first = config.tasks[0]
    if config.student_type == "bilstm":
        encoder = BiLSTMStudent(base_encoder.config.vocab_size, config.bilstm_embedding_size,
                                config.bilstm_hidden_size, pad_token_id=pad_id, name="encoder")
        init_info = {"method": "random"}
    else:
        first_teacher = (teachers.for_task(first) if isinstance(teachers, MultiTaskModel)
                         else teachers[first])
        importance = datasets[first].map(lambda inputs, labels: inputs)
        encoder, init_info = init_student(
            config.student_init, student_config_for(config, base_encoder.config),
            teacher=first_teacher,
            batches=importance.take(config.student_init.importance_batches))
    student = MultiTaskModel(encoder, {n: _num_outputs(teachers, n) for n in config.tasks},
                             name="multi_task_student")
    mkd = MultiTaskDistiller(student, teachers, losses=parse_losses(config.losses),
                             loss_settings=LossSettings(temperature=config.temperature))
    mkd.compile(create_optimizer(config.learning_rate, config.steps,
                                 int(config.steps * config.warmup_proportion)))
    sampler = TaskSampler(sizes, tau=config.tau, seed=config.seed)
    _log(config, f"MKD over {sizes} with task probabilities {sampler.probabilities}")
    history = mkd.fit(datasets, sampler, config.steps,
                      log_every=config.log_every if config.verbose else 0)

    results = {"tasks": list(config.tasks), "task_sizes": sizes,
               "task_probabilities": sampler.probabilities,
               "task_steps": history["task_steps"], "student_init": init_info,
               "train_seconds": round(history["seconds"], 1), "teacher_eval": teacher_evals,
               "student_eval": {}}
    for name, task in tasks.items():
        split = task.eval_splits[0]
        examples = task.subsample(task.load_examples(split), split)
        features = task.build_features(examples, task_tokenizer, training=False)
        outputs = task.predict(student.for_task(name), features, pad_token_id=pad_id, verbose=0)
        results["student_eval"][name], _ = task.evaluate(examples, features, outputs)

    out = config.output_dir
    paths = save_encoder(encoder, tokenizer, out, name="encoder")
    with atomic_path(os.path.join(out, "multi_task_student.keras")) as tmp:
        student.save(tmp)
    paths["multi_task_student"] = os.path.join(out, "multi_task_student.keras")
    results["outputs"] = paths
    results["wall_time_seconds"] = round(time.time() - start, 1)
    write_json(os.path.join(out, "metrics.json"), results)
    _log(config, "\n".join([
        "=" * 30 + " MKD summary " + "=" * 30,
        f"Tasks and steps: {history['task_steps']} (tau={config.tau})",
        f"Student ({config.student_type}, init {init_info['method']}) on dev: "
        f"{results['student_eval']}",
        f"Teachers on dev: {teacher_evals or 'given'}",
        f"Task-agnostic encoder: {paths}",
        f"Wall time: {results['wall_time_seconds']}s"]))
    return results
