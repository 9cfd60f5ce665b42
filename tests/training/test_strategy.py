"""Which strategy "auto" picks, and who writes outputs."""
import json

import tensorflow as tf

from xtremedistil_tf.training.strategy import is_chief, resolve_strategy_name


def _tf_config(monkeypatch, cluster):
    task = {"type": "worker", "index": 0}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))


def test_auto_is_multi_worker_for_a_cluster_with_a_chief(monkeypatch):
    # Vertex AI style: a "chief" task beside the workers; both train.
    _tf_config(monkeypatch, {"chief": ["host0:2222"], "worker": ["host1:2222"]})
    assert resolve_strategy_name("auto") == "multi_worker"
    _tf_config(monkeypatch, {"worker": ["host0:2222", "host1:2222"]})
    assert resolve_strategy_name("auto") == "multi_worker"


def test_auto_without_a_cluster_stays_on_this_machine(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert resolve_strategy_name("auto") in ("one_device", "mirrored")


def test_a_single_process_is_chief():
    assert is_chief(tf.distribute.get_strategy())
    assert is_chief(tf.distribute.OneDeviceStrategy("/cpu:0"))
