"""Runs run_distill.py as a MultiWorkerMirroredStrategy cluster of local processes.

    python run_scripts/launch_multi_worker.py --num_workers=2 -- \
        --flagfile=flags/l6h256.cfg --output_dir=outputs/l6h256_2w

Everything after `--` goes to run_distill.py unchanged, plus
`--strategy=multi_worker`. Each worker gets a free localhost port and its own
`TF_CONFIG` (`{"cluster": {"worker": [...]}, "task": {"type": "worker",
"index": i}}`); worker 0 is the chief and the only one that writes into
`--output_dir`. Output lines are prefixed with `[worker i]`.

If a worker dies, the others would wait forever on its next collective, so the
launcher stops them and ends with one error line naming the worker. Rerunning
the same command resumes every worker from the last checkpoint. On several
machines, start run_distill.py on each with the cluster's `TF_CONFIG` instead
(README, "Running on a cluster").

Standard library only: importing `xtremedistil_tf` loads TensorFlow, which a
process that only starts others does not need. Errors still read
`launch_multi_worker.py: error: <message>`, as `xtremedistil_tf.utils.cli` words them.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "run_distill.py")
# Seconds a stopped worker gets to exit after SIGTERM before SIGKILL.
_GRACE_SECONDS = 5
# Exit codes, as xtremedistil_tf.utils.cli has them.
EXIT_INPUT_ERROR, EXIT_USAGE_ERROR = 1, 2


def free_ports(count, host="localhost"):
    """`count` distinct ports that were free a moment ago (bound together, then released)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tf_configs(addresses):
    """The `TF_CONFIG` value of each worker of a cluster of `addresses` (worker 0 is chief)."""
    cluster = {"worker": list(addresses)}
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
            for index in range(len(addresses))]


def worker_command(args):
    """The run_distill.py command of every worker: `args` with the strategy fixed."""
    for arg in args:
        if arg.startswith("--strategy=") and arg != "--strategy=multi_worker":
            raise ValueError(f"{arg} contradicts the launcher, which runs "
                             "--strategy=multi_worker; drop it.")
        if arg == "--strategy":
            raise ValueError("write --strategy=multi_worker in one word, or drop it.")
    # Last, so that it overrides a strategy set in a --flagfile.
    return [sys.executable, SCRIPT, *args, "--strategy=multi_worker"]


def _describe(code):
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _relay(index, stream):
    for line in stream:
        sys.stdout.write(f"[worker {index}] {line}")
        sys.stdout.flush()


def _stop(procs):
    """SIGTERM, then SIGKILL, to the process group of every worker still running."""
    alive = [p for p in procs if p.poll() is None]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for proc in alive:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + _GRACE_SECONDS
        while time.time() < deadline and any(p.poll() is None for p in alive):
            time.sleep(0.1)
        alive = [p for p in alive if p.poll() is None]
        if not alive:
            return


def _first_failure(procs):
    """The index of the worker that failed, None while none has.

    When several ended since the last look, one killed by a signal is taken as
    the cause: the others then fail on its missing collectives.
    """
    codes = [(i, p.poll()) for i, p in enumerate(procs)]
    failed = [(code >= 0, i) for i, code in codes if code not in (None, 0)]
    return min(failed)[1] if failed else None


def launch(args, num_workers, host="localhost"):
    """Starts the workers, relays their output and waits; returns None or an error message."""
    command = worker_command(args)
    addresses = [f"{host}:{port}" for port in free_ports(num_workers, host)]
    procs, relays = [], []
    failed = None
    try:
        for index, tf_config in enumerate(tf_configs(addresses)):
            # Its own process group, so that stopping a worker stops what it started.
            proc = subprocess.Popen(
                command, cwd=ROOT, env=dict(os.environ, TF_CONFIG=tf_config),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, errors="replace", start_new_session=True)
            procs.append(proc)
            print(f"Started worker {index} (pid {proc.pid}) on {addresses[index]}"
                  + (", the chief" if index == 0 else ""), flush=True)
            relay = threading.Thread(target=_relay, args=(index, proc.stdout), daemon=True)
            relay.start()
            relays.append(relay)
        while failed is None and any(p.poll() is None for p in procs):
            time.sleep(0.2)
            failed = _first_failure(procs)
    finally:
        # Also on Ctrl-C or SIGTERM: no worker outlives the launcher.
        _stop(procs)
        for relay in relays:
            relay.join(timeout=5)
    if failed is None:
        return None
    others = ", the others were stopped" if num_workers > 1 else ""
    return (f"worker {failed} {_describe(procs[failed].returncode)}{others}; see its "
            f"[worker {failed}] lines, then rerun the same command to resume from the last "
            "checkpoint.")


def _fail(message, code=EXIT_INPUT_ERROR):
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        _fail(f"{message} (see --help)", EXIT_USAGE_ERROR)


def main(argv):
    """Parses `argv` (launcher flags, "--", run_distill.py flags) and runs the cluster."""
    own, worker_args = argv, []
    if "--" in argv:
        cut = argv.index("--")
        own, worker_args = argv[:cut], argv[cut + 1:]
    parser = _Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--num_workers", type=int, default=2,
                        help="worker processes to start on this machine (default 2)")
    parser.add_argument("--host", default="localhost",
                        help="address the workers reach each other on (default localhost)")
    args = parser.parse_args(own)
    if args.num_workers < 1:
        _fail(f"--num_workers={args.num_workers} must be at least 1.", EXIT_USAGE_ERROR)
    if not worker_args:
        _fail("give run_distill.py's flags after --, e.g. launch_multi_worker.py "
              "--num_workers=2 -- --flagfile=flags/l6h256.cfg --output_dir=outputs/l6h256_2w",
              EXIT_USAGE_ERROR)
    try:
        error = launch(worker_args, args.num_workers, args.host)
    except (ValueError, OSError) as err:
        _fail(" ".join(str(err).split()))
    if error is not None:
        _fail(error)
    return 0


if __name__ == "__main__":
    # SIGTERM ends the launcher through launch()'s `finally`, which stops the workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    sys.exit(main(sys.argv[1:]))
