"""The phases of gradual unfreezing: the head first, then one layer group more at a time."""


def unfreeze_phases(groups, mode):
    """`[(count, label)]`: how many top groups each phase trains, and its name.

    Args:
        groups: `Distiller.layer_groups()`: head, top layer, ..., embeddings.
        mode: "none" (one phase, every group: count None) or "gradual".

    A phase that would add an empty group (a student without a head or
    pooler) is left out: it would repeat the phase before it.
    """
    if mode == "none":
        return [(None, "all")]
    if mode != "gradual":
        raise ValueError(f"unfreeze={mode!r} must be 'none' or 'gradual'.")
    total = len(groups)
    if total == 1:
        return [(1, "all")]
    num_layers = total - 2
    phases = []
    for count in range(1, total + 1):
        if not groups[count - 1] and count < total:
            continue
        if count == 1:
            label = "head"
        elif count == total:
            label = "all (embeddings too)"
        else:
            lowest = num_layers - count + 2
            layers = f"layer {num_layers}" if lowest == num_layers else \
                f"layers {lowest}-{num_layers}"
            label = f"head + {layers}"
        phases.append((count, label))
    return phases
