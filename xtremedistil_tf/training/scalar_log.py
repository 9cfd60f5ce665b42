"""TensorBoard scalars written with TensorFlow alone (no `tensorboard` package needed)."""
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

# What tensorboard.summary.scalar attaches, so TensorBoard's scalar dashboard shows it.
_SCALAR_METADATA = summary_pb2.SummaryMetadata(
    plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
    data_class=summary_pb2.DATA_CLASS_SCALAR)


def write_scalars(writer, step, values, prefix=""):
    """Writes `{name: float}` at `step` to a `tf.summary` writer and flushes nothing."""
    with writer.as_default(step=step):
        for name, value in values.items():
            tf.summary.write(f"{prefix}{name}", tf.constant(float(value), tf.float32),
                             metadata=_SCALAR_METADATA)
