"""Runs a LiteRT model's signatures with `ai_edge_litert`, tokenizer ops included."""
import os

import numpy as np

from xtremedistil_tf.utils.optional_imports import require


class LiteRTModel:
    """A `.tflite` file (or its bytes) with callable signatures.

    Text-in models hold tensorflow-text custom ops; they are registered when
    `custom_ops` is True (which imports `tensorflow_text`).

    Args:
        model: a path to a `.tflite` file, or its bytes.
        custom_ops: register the tensorflow-text ops.
        num_threads: CPU threads of the interpreter.

    Examples:
    >>> lite = LiteRTModel("model_fp32.tflite")
    >>> lite("serving_default", input_ids=ids, attention_mask=mask,
    ...      token_type_ids=types)["probabilities"]
    """

    def __init__(self, model, custom_ops=False, num_threads=None):
        litert = require("ai_edge_litert.interpreter", "litert", "Running LiteRT models")

        kwargs = {"num_threads": num_threads} if num_threads else {}
        if isinstance(model, (bytes, bytearray)):
            kwargs["model_content"] = bytes(model)
        else:
            path = os.fspath(model)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"No LiteRT model at {path!r}.")
            kwargs["model_path"] = path
        if custom_ops:
            import tensorflow_text  # noqa: F401  (loads the registrar's kernels)

            self.interpreter = litert.InterpreterWithCustomOps(
                custom_op_registerers=tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS,
                **kwargs)
        else:
            self.interpreter = litert.Interpreter(**kwargs)
        self._runners = {}

    @property
    def signatures(self):
        """`{name: {"inputs": [...], "outputs": [...]}}`."""
        return self.interpreter.get_signature_list()

    def input_details(self, signature):
        return self._runner(signature).get_input_details()

    def _runner(self, signature):
        if signature not in self._runners:
            known = self.signatures
            if signature not in known:
                raise ValueError(f"The LiteRT model has no signature {signature!r}; it has "
                                 f"{sorted(known)}.")
            self._runners[signature] = self.interpreter.get_signature_runner(signature)
        return self._runners[signature]

    def __call__(self, signature, **inputs):
        """Runs `signature` on numpy inputs; returns its outputs as numpy arrays.

        A signature exported with a fixed batch of 1 (a BiLSTM's) runs a larger
        batch one example at a time.
        """
        runner = self._runner(signature)
        details = runner.get_input_details()
        missing = sorted(set(details) - set(inputs))
        if missing:
            raise ValueError(f"Signature {signature!r} needs inputs {sorted(details)}; "
                             f"missing {missing}.")
        batch = len(next(iter(inputs.values())))
        if batch > 1 and all(len(d["shape_signature"]) and d["shape_signature"][0] == 1
                             for d in details.values()):
            rows = [self(signature, **{k: v[i:i + 1] for k, v in inputs.items()})
                    for i in range(batch)]
            return {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
        feed = {}
        for name, value in inputs.items():
            dtype = details[name]["dtype"] if name in details else None
            if dtype is not None and np.dtype(dtype).kind in "OSU":
                feed[name] = np.asarray([_to_bytes(v) for v in value], dtype=object)
            else:
                feed[name] = np.asarray(value, dtype=dtype)
        return {name: np.array(value) for name, value in runner(**feed).items()}


def _to_bytes(value):
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)
