"""Metrics computed exactly as the GLUE, SQuAD and CoNLL evaluations report them."""
