"""Test helper: answers a TF Serving REST predict request body with a SavedModel signature.

There is no TF Serving binary in the test environment; this module does what its
REST front end does with a `POST /v1/models/<name>:predict` body (row format
`instances` or columnar `inputs`), so that tests can show the documented request
reaches the signature with the right names, shapes and types.
"""
import base64

import numpy as np
import tensorflow as tf


class ServingRequestError(ValueError):
    """A request body TF Serving would answer with HTTP 400."""


def _decode(value):
    """JSON value -> python value; `{"b64": ...}` objects become bytes."""
    if isinstance(value, dict):
        if set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        raise ServingRequestError(f"Unexpected JSON object {sorted(value)} inside a tensor "
                                  "value; only {'b64': ...} is allowed there.")
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


def _tensor(name, value, spec):
    value = _decode(value)
    if spec.dtype == tf.string:
        array = np.array(value, dtype=object)
    else:
        try:
            array = np.array(value, dtype=spec.dtype.as_numpy_dtype)
        except (TypeError, ValueError) as err:
            raise ServingRequestError(f"Input {name!r} expects {spec.dtype.name} values: "
                                      f"{err}") from None
    if array.ndim != len(spec.shape) or not spec.shape.is_compatible_with(array.shape):
        raise ServingRequestError(f"Input {name!r} has shape {list(array.shape)}, but the "
                                  f"signature expects {spec.shape} ({spec.dtype.name}).")
    return tf.constant(array, dtype=spec.dtype)


def _rows_to_columns(instances, names):
    if not isinstance(instances, list) or not instances:
        raise ServingRequestError("'instances' must be a non-empty list, one entry per example.")
    if all(isinstance(row, dict) and "b64" not in row for row in instances):
        for i, row in enumerate(instances):
            if set(row) != set(names):
                raise ServingRequestError(
                    f"instances[{i}] has keys {sorted(row)}; the signature's inputs are "
                    f"{sorted(names)} and every instance needs exactly those.")
        return {name: [row[name] for row in instances] for name in names}
    if len(names) != 1:
        raise ServingRequestError(
            f"The signature has inputs {sorted(names)}; each instance must be an object "
            "naming them, e.g. {" + ", ".join(f'"{n}": ...' for n in sorted(names)) + "}.")
    return {names[0]: instances}


def request_inputs(body, signature):
    """The named batched tensors TF Serving would feed `signature` for `body`.

    Args:
        body: the parsed JSON body, `{"signature_name": ..., "instances": [...]}`
            (row format: one object per example, or a bare value when the
            signature has a single input) or `{"inputs": {...}}` (columnar).
        signature: a concrete function from `loaded.signatures`.

    Returns `(inputs, row_format)`.
    """
    if not isinstance(body, dict):
        raise ServingRequestError("The request body must be a JSON object.")
    if ("instances" in body) == ("inputs" in body):
        raise ServingRequestError("The request body needs exactly one of 'instances' (row "
                                  "format) or 'inputs' (columnar format).")
    specs = signature.structured_input_signature[1]
    names = sorted(specs)
    if "instances" in body:
        columns = _rows_to_columns(body["instances"], names)
    else:
        columns = body["inputs"]
        if not isinstance(columns, dict):
            if len(names) != 1:
                raise ServingRequestError(f"'inputs' must be an object with keys {names}.")
            columns = {names[0]: columns}
        if set(columns) != set(names):
            raise ServingRequestError(f"'inputs' has keys {sorted(columns)}; the signature's "
                                      f"inputs are {names}.")
    return {n: _tensor(n, columns[n], specs[n]) for n in names}, "instances" in body


def _json_value(array):
    array = np.asarray(array)
    if array.dtype.kind in "OS":
        return np.vectorize(lambda b: b.decode("utf-8") if isinstance(b, bytes) else b,
                            otypes=[object])(array).tolist() if array.size else array.tolist()
    return array.tolist()


def predict(loaded, body):
    """Runs a REST predict `body` against a loaded SavedModel; returns the response.

    `loaded` is the result of `tf.saved_model.load` (with `import
    tensorflow_text` first when the model has text signatures). The response
    has TF Serving's shape: `{"predictions": [...]}` for row format (one object
    per example, or bare values when there is one output) and `{"outputs":
    {...}}` for columnar format.
    """
    name = body.get("signature_name", "serving_default") if isinstance(body, dict) else None
    if name not in loaded.signatures:
        raise ServingRequestError(f"Serving signature name: {name!r} not found in signature "
                                  f"def; available: {sorted(loaded.signatures)}.")
    signature = loaded.signatures[name]
    inputs, row_format = request_inputs(body, signature)
    outputs = {k: v.numpy() for k, v in signature(**inputs).items()}
    if not row_format:
        if len(outputs) == 1:
            return {"outputs": _json_value(next(iter(outputs.values())))}
        return {"outputs": {k: _json_value(v) for k, v in outputs.items()}}
    sizes = {k: v.shape[0] if v.ndim else None for k, v in outputs.items()}
    if len(set(sizes.values())) != 1 or None in sizes.values():
        raise ServingRequestError(f"Row format needs every output batched alike; got "
                                  f"batch sizes {sizes}. Use the columnar 'inputs' format.")
    if len(outputs) == 1:
        return {"predictions": _json_value(next(iter(outputs.values())))}
    batch = next(iter(sizes.values()))
    columns = {k: _json_value(v) for k, v in outputs.items()}
    return {"predictions": [{k: columns[k][i] for k in columns} for i in range(batch)]}
