"""Training curves (matplotlib is an optional dependency: ``pip install pydl[plot]``)."""
from __future__ import annotations


def plot_history(history, metrics=None, ax=None, path=None):
    """Plots each metric of a History per epoch (with its val_ twin). Saves to ``path`` when given."""
    try:
        import matplotlib

        if ax is None and path is not None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from None
    h = history.history if hasattr(history, "history") else dict(history)
    names = metrics or [k for k in h if not k.startswith("val_")]
    if ax is None:
        fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.5), squeeze=False)
        axes = axes[0]
    else:
        fig, axes = ax.figure, [ax] * len(names)
    for a, name in zip(axes, names):
        epochs = range(1, len(h[name]) + 1)
        a.plot(epochs, h[name], marker="o", label=name)
        if "val_" + name in h:
            a.plot(epochs, h["val_" + name], marker="o", label="val_" + name)
        a.set_xlabel("epoch")
        a.set_title(name)
        a.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
