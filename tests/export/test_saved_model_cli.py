"""`saved_model_cli show --all` lists the documented signatures, names and dtypes."""
import os
import re
import subprocess
import sys

import pytest


def _signatures(text):
    """{signature: {"inputs": {name: dtype}, "outputs": {name: dtype}}} from the CLI text."""
    found = {}
    blocks = re.split(r"\nsignature_def\['([^']+)'\]:", text)
    for name, body in zip(blocks[1::2], blocks[2::2]):
        entry = {"inputs": {}, "outputs": {}}
        for side, key, dtype in re.findall(r"(inputs|outputs)\['([^']+)'\] tensor_info:\s*"
                                           r"dtype: (\w+)", body):
            entry[side][key] = dtype
        found[name] = entry
    return found


@pytest.mark.slow
def test_saved_model_cli_lists_signatures(exported):
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    result = subprocess.run([cli, "show", "--all", "--dir", exported["saved_model"]],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    signatures = _signatures(result.stdout)
    ids = {"input_ids": "DT_INT32", "attention_mask": "DT_INT32", "token_type_ids": "DT_INT32"}
    outputs = {"logits": "DT_FLOAT", "probabilities": "DT_FLOAT", "predicted_index": "DT_INT32",
               "predicted_label": "DT_STRING", "label_names": "DT_STRING"}
    assert signatures["serving_default"] == {"inputs": ids, "outputs": outputs}
    assert signatures["serve_text"] == {"inputs": {"text": "DT_STRING"}, "outputs": outputs}
    assert signatures["serve_text_pair"] == {
        "inputs": {"text": "DT_STRING", "text_pair": "DT_STRING"}, "outputs": outputs}
    assert "Method name is: tensorflow/serving/predict" in result.stdout
