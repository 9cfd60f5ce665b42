"""How closely a student's representations follow the teacher's, and how fast both run."""
import time

import numpy as np
import tensorflow as tf

from xtremedistil_tf.distill.output_spec import extract


def sentence_vectors(model, inputs, pooling="mean", batch_size=64, projection=None):
    """Sentence vectors of `model` for the input dict of numpy arrays, as float32 numpy."""
    key = f"pooled/{pooling}"

    @tf.function(reduce_retracing=True)
    def run(batch):
        vectors = extract(model(batch, training=False), key, batch.get("attention_mask"))
        if projection is not None:
            vectors = projection(vectors)
        return tf.cast(vectors, tf.float32)

    num = len(inputs["input_ids"])
    out = [run({k: v[i:i + batch_size] for k, v in inputs.items()}).numpy()
           for i in range(0, num, batch_size)]
    return np.concatenate(out)


def mean_cosine(a, b):
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float(np.mean(np.sum(a * b, axis=1)))


def probe_cosine(student_fit, teacher_fit, student_eval, teacher_eval, ridge=1e-2):
    """Mean cosine on the eval rows after a ridge-regression map student -> teacher.

    The map is fitted on the fit rows only, so a student of any width gets the
    same best linear chance; a random student is judged the same way.
    """
    x = np.hstack([student_fit, np.ones((len(student_fit), 1))])
    w = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ teacher_fit)
    mapped = np.hstack([student_eval, np.ones((len(student_eval), 1))]) @ w
    return mean_cosine(mapped, teacher_eval)


def similarity_correlation(student, teacher):
    """Pearson correlation of the pairwise cosine similarities: width-free agreement."""
    def pairwise(v):
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        sims = v @ v.T
        return sims[np.triu_indices(len(v), k=1)]

    return float(np.corrcoef(pairwise(student), pairwise(teacher))[0, 1])


def latency_ms(model, inputs, repeats=5):
    """Median milliseconds of one forward pass over `inputs` (after a warm-up)."""
    run = tf.function(lambda batch: model(batch, training=False)["sequence_output"])
    run(inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(run(inputs))
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def count_params(model):
    return int(sum(np.prod(v.shape) for v in model.weights))


def agreement_report(teacher, student, fit_inputs, eval_inputs, pooling="mean", projection=None):
    """Agreement numbers of `student` with `teacher` (fit rows train the probe only)."""
    teacher_fit = sentence_vectors(teacher, fit_inputs, pooling)
    teacher_eval = sentence_vectors(teacher, eval_inputs, pooling)
    student_fit = sentence_vectors(student, fit_inputs, pooling)
    student_eval = sentence_vectors(student, eval_inputs, pooling)
    report = {
        "probe_cosine": probe_cosine(student_fit, teacher_fit, student_eval, teacher_eval),
        "similarity_correlation": similarity_correlation(student_eval, teacher_eval),
    }
    if projection is not None:
        projected = sentence_vectors(student, eval_inputs, pooling, projection=projection)
        report["projected_cosine"] = mean_cosine(projected, teacher_eval)
    return report


__all__ = ["agreement_report", "count_params", "latency_ms", "mean_cosine",
           "probe_cosine", "similarity_correlation", "sentence_vectors"]
