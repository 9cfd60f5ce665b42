"""Export to TF Serving (SavedModel) and LiteRT, with parity checks against Keras."""
from xtremedistil_tf.export.export_config import DEFAULT_FORMATS, FORMATS, ExportConfig
from xtremedistil_tf.export.export_data import ExportData
from xtremedistil_tf.export.export_layout import ExportLayout, VersionExistsError
from xtremedistil_tf.export.exporter import export_model
from xtremedistil_tf.export.litert_converter import (
    EmptyRepresentativeDataError, convert_saved_model)
from xtremedistil_tf.export.litert_model import LiteRTModel
from xtremedistil_tf.export.model_source import ModelSource, load_model_source
from xtremedistil_tf.export.parity import ParityError, compare_outputs
from xtremedistil_tf.export.serving_head import KINDS, ServingHead, detect_kind
from xtremedistil_tf.export.serving_signatures import (
    SIGNATURE_IDS, SIGNATURE_TEXT, SIGNATURE_TEXT_PAIR, build_archive)

__all__ = [
    "DEFAULT_FORMATS", "FORMATS", "KINDS", "SIGNATURE_IDS", "SIGNATURE_TEXT",
    "SIGNATURE_TEXT_PAIR", "EmptyRepresentativeDataError", "ExportConfig", "ExportData",
    "ExportLayout", "LiteRTModel", "ModelSource", "ParityError", "ServingHead",
    "VersionExistsError", "build_archive", "compare_outputs", "convert_saved_model",
    "detect_kind", "export_model", "load_model_source",
]
