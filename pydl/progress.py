"""Progress bars for fit: the Java loop updates a ProgressState; a Python thread-free poll loop draws tqdm bars."""
from __future__ import annotations

import json
import sys
import threading

from tqdm.auto import tqdm

from .errors import translate


def _fmt(logs: dict) -> dict:
    return {k: f"{float(v):.4f}" for k, v in logs.items()}


def run_with_progress(call, state, model_java, verbose: int):
    """Runs ``call()`` (a blocking Java fit) in a worker thread while this thread draws progress.

    Ctrl-C asks the Java loop to stop after the current batch. Returns call's result; re-raises its error.
    """
    result, error = {}, {}

    def worker():
        try:
            result["value"] = call()
        except BaseException as e:  # noqa: BLE001
            error["value"] = e

    t = threading.Thread(target=worker, name="pydl-fit", daemon=True)
    t.start()
    bar, bar_epoch = None, -1
    epochs = None
    try:
        while True:
            t.join(0.1)
            if verbose:
                if epochs is None and int(state.epochs()) > 0:
                    epochs = int(state.epochs())
                cur = json.loads(str(state.current()))
                while True:
                    done = state.pollEpoch()
                    if done is None:
                        break
                    d = json.loads(str(done))
                    if bar is None or bar_epoch != d["epoch"]:
                        if bar is not None:
                            bar.close()
                        bar = _new_bar(d["epoch"], epochs, int(state.steps()))
                        bar_epoch = d["epoch"]
                    bar.update(bar.total - bar.n)
                    bar.set_postfix(_fmt(d["logs"]), refresh=False)
                    bar.close()
                    bar = None
                if cur and "epoch" in cur and (bar_epoch != cur["epoch"] or bar is not None):
                    if bar is None and bar_epoch != cur["epoch"]:
                        bar = _new_bar(cur["epoch"], epochs, int(state.steps()))
                        bar_epoch = cur["epoch"]
                    if bar is not None:
                        bar.set_postfix(_fmt(cur["logs"]), refresh=False)
                        bar.update(cur["step"] + 1 - bar.n)
            if not t.is_alive():
                break
    except KeyboardInterrupt:
        model_java.requestStop()
        t.join()
        if bar is not None:
            bar.close()
        print("pydl: training stopped by Ctrl-C after the current batch", file=sys.stderr)
    if bar is not None:
        bar.close()
    if "value" in error:
        raise translate(error["value"]) from None
    return result.get("value")


def _new_bar(epoch, epochs, steps):
    # On a terminal: a live bar. In logs (CI, files): one line per epoch, written when the epoch ends.
    live = sys.stderr.isatty()
    return tqdm(total=steps, desc=f"Epoch {epoch + 1}/{epochs or '?'}", unit="step", leave=True,
                dynamic_ncols=True, file=sys.stderr, mininterval=0.2 if live else 1e9, maxinterval=1e9)


