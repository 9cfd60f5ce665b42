"""Install xtremedistil_tf: `pip install -e ".[test,litert]"`.

install_requires is what the library imports; the extras are what only some runs need:
`tfds` (--data_source=tfds, tfds: transfer data), `litert` (running LiteRT exports),
`torch` (reading pytorch_model.bin checkpoints), `tensorboard` (viewing the logs the
runs write with TensorFlow alone) and `test` (the suite compares against transformers
and torch).
"""
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
        # The in-graph tokenizer reproduces the character tables of tokenizers' BERT
        # normalizer and pre-tokenizer (tokenizers/_char_table.py): bounded to the minor
        # versions its parity tests have passed on.
        "tokenizers>=0.19,<0.24",
        # Hub names in from_hf / --teacher (checkpoints/hf_loader.py).
        "huggingface_hub>=0.23",
        "safetensors>=0.4",
        "absl-py>=2.0",
        "numpy",
        # GLUE metrics, the quality probes and the export dev metric.
        "scikit-learn>=1.3",
        "scipy>=1.9",
        # Only for its test data: the English Wikipedia excerpt that
        # --transfer_data=builtin:wikipedia (the default recipe's text) reads; never imported.
        "gensim>=4.0,<5",
        # NER entity F1 (strict and conlleval modes).
        "seqeval>=1.2.2",
        # SentencePiece (XLM-R style) tokenizers, host side and in-graph; we read its
        # model files through the sentencepiece_model_pb2 module it ships, hence
        # protobuf and the upper bound.
        "sentencepiece>=0.1.99,<0.3",
        "protobuf",
    ],
    extras_require={
        "tfds": ["tensorflow-datasets>=4.9"],
        "litert": ["ai-edge-litert"],
        "torch": ["torch"],
        "tensorboard": ["tensorboard>=2.20"],
        "test": [
            "pytest>=8",
            "pytest-xdist>=3.5",
            "torch==2.13.0",
            "transformers>=4.40",
        ],
    },
)
