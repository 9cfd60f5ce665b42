"""Task transfer (XtremeDistil): `run_distill.py` with the recipe `flags/task_transfer.cfg`.

    python run_scripts/run_task_transfer.py --data_dir=../shared/data/glue

runs the same as

    python run_distill.py --flagfile=flags/task_transfer.cfg --data_dir=../shared/data/glue

and any run_distill.py flag given after it overrides the recipe (e.g.
--flagfile=flags/paper/xtremedistil_l6h256.cfg for the paper-scale recipe). The
student's encoder, the universal checkpoint, lands in <output_dir>/hf_student:

    python run_scripts/run_finetune.py --flagfile=flags/finetune/glue_mrpc.cfg \
        --data_dir=../shared/data/glue \
        --init_checkpoint=outputs/task_transfer/hf_student --output_dir=outputs/mrpc
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import run_distill  # noqa: E402

RECIPE = os.path.join(ROOT, "flags", "task_transfer.cfg")

if __name__ == "__main__":
    from xtremedistil_tf.distill.stage_runner import NonFiniteLossError
    from xtremedistil_tf.utils.cli import run

    # The recipe first, so that flags on the command line override it.
    sys.argv[1:1] = [f"--flagfile={RECIPE}"]
    run(run_distill.main, errors=(NonFiniteLossError,))
