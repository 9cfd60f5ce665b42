"""Teacher outputs computed once over the transfer set and stored in shards."""
import hashlib
import json
import os

import numpy as np
import tensorflow as tf

from xtremedistil_tf.distill.output_spec import is_token_level
from xtremedistil_tf.utils.atomic_io import atomic_path, write_json

# 2: per-token logits (`[n, seq, labels]`, NER) are stored in the token dtype.
_FORMAT_VERSION = 2
_MANIFEST = "manifest.json"


def fingerprint_variables(variables):
    """sha256 of the variables' shapes, dtypes and values, in order: changes whenever any
    weight does. Not their paths: Keras numbers layer names per process, so a teacher
    loaded again (e.g. a fine-tuned teacher read back from model.keras on rerun) would
    miss its own cache. Pass a model's `weights`, not its `variables`: those also hold
    the dropout seed generators' state, which moves with every training step."""
    digest = hashlib.sha256()
    for variable in variables:
        value = np.ascontiguousarray(variable.numpy())
        digest.update(f"{value.dtype}{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def fingerprint_arrays(arrays):
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}{value.dtype}{value.shape}".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


class TeacherCache:
    """Shards of teacher outputs, keyed by teacher weights, data and settings.

    The folder name is a hash of the teacher's weights, the token ids and the
    cached keys and dtype, so a cache built for another teacher, another text
    or other settings is never read: it simply lives in another folder. The
    manifest is written last, so an interrupted build is not taken as complete.

    Args:
        folder: a complete cache folder (as returned by `build`).

    Examples:
    >>> cache = TeacherCache.build(root, distiller.teacher_targets, inputs,
    ...                            keys=["pooled/mean"], teacher_fingerprint=fp)
    >>> cache.gather(np.array([3, 1]))["pooled/mean"].shape
    (2, 384)
    """

    def __init__(self, folder):
        self.folder = folder
        with open(os.path.join(folder, _MANIFEST), encoding="utf-8") as f:
            self.manifest = json.load(f)
        self.keys = list(self.manifest["keys"])
        self.shard_size = self.manifest["shard_size"]
        self.num_examples = self.manifest["num_examples"]
        self._shards = [
            {key: np.load(os.path.join(folder, shard, _file_name(key)), mmap_mode="r")
             for key in self.keys}
            for shard in self.manifest["shards"]]

    @staticmethod
    def cache_key(teacher_fingerprint, inputs, keys, token_dtype):
        settings = json.dumps({"version": _FORMAT_VERSION, "keys": sorted(keys),
                               "token_dtype": token_dtype}, sort_keys=True)
        digest = hashlib.sha256()
        for part in (teacher_fingerprint, fingerprint_arrays(inputs), settings):
            digest.update(part.encode())
        return digest.hexdigest()

    @classmethod
    def build(cls, root, teacher_fn, inputs, keys, teacher_fingerprint,
              token_dtype="float16", batch_size=64, shard_size=4096, log=print,
              scratch_root=None):
        """Returns the cache for these settings, computing it unless it already exists.

        Args:
            root: parent folder of all caches.
            teacher_fn: maps an input dict batch to a dict of the `keys`.
            inputs: dict of numpy arrays `[num_examples, seq]` (the token ids).
            keys: teacher output keys to store (see `output_spec.extract`).
            teacher_fingerprint: `fingerprint_variables(teacher.weights)`.
            token_dtype: storage dtype of per-token outputs (hidden states,
                and logits with one row per token, as a tagger's); per-example
                outputs (a classifier's logits, sentence vectors) stay float32.
            scratch_root: where to compute the cache when `root` has no complete
                one, instead of `root`. A non-chief worker of a cluster passes a
                folder of its own: it reads the chief's cache but never writes
                the shared folder.
        """
        key = cls.cache_key(teacher_fingerprint, inputs, keys, token_dtype)
        folder = os.path.join(root, key[:24])
        manifest = os.path.join(folder, _MANIFEST)
        if os.path.isfile(manifest):
            with open(manifest, encoding="utf-8") as f:
                if json.load(f).get("key") == key:
                    log(f"Teacher cache: reusing {folder}")
                    return cls(folder)
        if scratch_root is not None:
            folder = os.path.join(scratch_root, key[:24])
            manifest = os.path.join(folder, _MANIFEST)
        log(f"Teacher cache: computing {sorted(keys)} for {len(inputs['input_ids'])} examples "
            f"into {folder}")
        fn = tf.function(teacher_fn, reduce_retracing=True)
        num = len(inputs["input_ids"])
        shards = []
        os.makedirs(folder, exist_ok=True)
        for shard_index, start in enumerate(range(0, num, shard_size)):
            stop = min(start + shard_size, num)
            parts = {k: [] for k in keys}
            for begin in range(start, stop, batch_size):
                end = min(begin + batch_size, stop)
                batch = {name: value[begin:end] for name, value in inputs.items()}
                outputs = fn(batch)
                for k in keys:
                    value = np.asarray(outputs[k])
                    parts[k].append(value.astype(_storage_dtype(k, value, token_dtype)))
            shard = f"shard-{shard_index:05d}"
            with atomic_path(os.path.join(folder, shard)) as tmp:
                os.makedirs(tmp)
                for k in keys:
                    np.save(os.path.join(tmp, _file_name(k)), np.concatenate(parts[k]))
            shards.append(shard)
        write_json(manifest, {"key": key, "keys": sorted(keys), "num_examples": num,
                              "shard_size": shard_size, "shards": shards,
                              "token_dtype": token_dtype})
        return cls(folder)

    def gather(self, indices):
        """Dict of key -> array for the examples at `indices` (global example ids)."""
        indices = np.asarray(indices, dtype=np.int64)
        shard_of, row = indices // self.shard_size, indices % self.shard_size
        out = {}
        for key in self.keys:
            first = self._shards[0][key]
            values = np.empty((len(indices),) + first.shape[1:], first.dtype)
            for shard in np.unique(shard_of):
                sel = shard_of == shard
                values[sel] = self._shards[shard][key][row[sel]]
            out[key] = values
        return out

    def spec(self):
        """`{key: (shape without batch, dtype)}` of the stored arrays."""
        return {k: (self._shards[0][k].shape[1:], self._shards[0][k].dtype) for k in self.keys}


def _storage_dtype(key, value, token_dtype):
    """Per-token arrays (rank 3 and up: `[n, seq, ...]`) take `token_dtype`."""
    return token_dtype if is_token_level(key) or value.ndim > 2 else "float32"


def _file_name(key):
    return key.replace("/", "__") + ".npy"
