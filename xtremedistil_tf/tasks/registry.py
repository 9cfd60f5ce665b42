"""Task name -> task class, written out in full so that every name is visible here."""
from xtremedistil_tf.tasks.glue import GlueTask
from xtremedistil_tf.tasks.ner import NerTask
from xtremedistil_tf.tasks.squad import SquadTask
from xtremedistil_tf.tasks.text_classification import TextClassificationTask

# A class serves several names (all of GLUE is one class); it reads its name to
# pick the data layout, the labels and the metrics.
TASKS = {
    "cola": GlueTask,
    "sst2": GlueTask,
    "mrpc": GlueTask,
    "stsb": GlueTask,
    "qqp": GlueTask,
    "mnli": GlueTask,
    "qnli": GlueTask,
    "rte": GlueTask,
    "wnli": GlueTask,
    "text_classification": TextClassificationTask,
    "text_regression": TextClassificationTask,
    "squad_v1": SquadTask,
    "squad_v2": SquadTask,
    "conll2003": NerTask,
    "conll": NerTask,
    "wikiann": NerTask,
    "xtreme_panx": NerTask,
}


def get_task(name, config):
    """Builds the task registered as `name` with a `TaskConfig`."""
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; valid tasks: {sorted(TASKS)}.")
    return TASKS[name](name, config)
