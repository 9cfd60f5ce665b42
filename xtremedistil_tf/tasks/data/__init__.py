"""Readers, records, tokenisation and batching for the fine-tuning tasks."""
from xtremedistil_tf.tasks.data.examples import Features, QAExample, TextExample, TokenExample
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer
from xtremedistil_tf.utils.data_error import DataError

__all__ = ["DataError", "Features", "QAExample", "TaskTokenizer", "TextExample",
           "TokenExample"]
