"""Readers, records, tokenisation and batching for the fine-tuning tasks."""
from xtremedistil_tf.tasks.data.data_error import DataError
from xtremedistil_tf.tasks.data.examples import Features, QAExample, TextExample, TokenExample
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer

__all__ = ["DataError", "Features", "QAExample", "TaskTokenizer", "TextExample",
           "TokenExample"]
