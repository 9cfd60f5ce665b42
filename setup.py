"""Install xtremedistil_tf: `pip install -e ".[test,litert]"`."""
from setuptools import find_packages, setup

setup(
    name="xtremedistil_tf",
    version="0.1.0",
    description=(
        "Task-agnostic distillation of BERT-family encoders (XtremeDistilTransformers, "
        "Extract-Then-Distill, multi-task distillation) in Keras/TensorFlow, with export "
        "to TF Serving and LiteRT."
    ),
    python_requires=">=3.10",
    packages=find_packages(include=["xtremedistil_tf", "xtremedistil_tf.*"]),
    install_requires=[
        "tensorflow==2.21.*",
        "keras>=3.12,<4",
        "tensorflow-text==2.21.*",
        "transformers>=4.40",
        "tokenizers>=0.19",
        "safetensors>=0.4",
        "absl-py>=2.0",
        "tensorflow-datasets>=4.9",
        "numpy",
        # SentencePiece (XLM-R style) tokenizers, host side and in-graph.
        "sentencepiece",
        "protobuf",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            "torch==2.13.0",
            "scikit-learn",
            "scipy",
            "seqeval",
        ],
        "litert": ["ai-edge-litert"],
    },
)
