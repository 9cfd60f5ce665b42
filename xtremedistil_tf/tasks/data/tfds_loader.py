"""Reads TensorFlow Datasets splits as plain Python records.

tensorflow-datasets is the optional `tfds` extra: only `--data_source=tfds`
and `tfds:` transfer data need it.
"""
from xtremedistil_tf.utils.optional_imports import require


def import_tfds(feature="TFDS data (--data_source=tfds)"):
    """The `tensorflow_datasets` module; `MissingDependencyError` naming the extra if absent."""
    return require("tensorflow_datasets", "tfds", feature)


def _plain(value):
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_tfds(name, split, data_dir=None):
    """Yields the records of TFDS `name` / `split` with bytes decoded to str.

    The dataset is downloaded and prepared into `data_dir` (TFDS's default
    folder when empty) on first use, as TFDS does.
    """
    tfds = import_tfds()  # Slow to import; only TFDS runs need it.
    try:
        dataset = tfds.load(name, split=split, data_dir=data_dir or None, shuffle_files=False)
    except Exception as err:  # TFDS raises many types; all mean the same to a user.
        raise ValueError(f"Could not load TFDS dataset {name!r} split {split!r} "
                         f"({type(err).__name__}: {err}); check the name, the split and "
                         "network access, or use --data_source=local.") from err
    for record in tfds.as_numpy(dataset):
        yield _plain(record)


def tfds_label_names(name, feature="label", data_dir=None):
    """Class names of a `ClassLabel` feature (e.g. the tags of `wikiann/en`)."""
    tfds = import_tfds()
    info = tfds.builder(name, data_dir=data_dir or None).info
    label = info.features[feature]
    label = getattr(label, "feature", label)  # Sequence(ClassLabel) -> ClassLabel.
    return list(label.names)
