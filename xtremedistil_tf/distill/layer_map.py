"""Which teacher layer each student layer learns from."""
import math


def build_layer_map(spec, num_teacher_layers, num_student_layers):
    """Returns a list of `(student_layer, teacher_layer)` pairs, 1-based.

    Layer 0 is the embeddings output; layers `1..L` are transformer layer outputs.

    Args:
        spec: `"uniform"`: student layer `i` learns from teacher layer
            `round(i * Lt / Ls)`, so the last layers always meet;
            `"top<k>"` (e.g. `"top3"`): the top `k` student layers learn from the
            top `k` teacher layers, as XtremeDistil mapped them; `k` may be one
            more than the smaller layer count, and then reaches the student's
            embedding output (layer 0);
            explicit pairs `"s:t,s:t"` (e.g. `"2:4,4:8,6:12"`), or a plain list of
            teacher layers `"4,8,12"`, one per student layer from the top down.
        num_teacher_layers, num_student_layers: transformer layer counts.
    """
    spec = str(spec).strip().replace(" ", "")
    if spec == "uniform":
        # floor(x + 0.5): round half up, not Python's round-half-to-even.
        return [(i, max(1, math.floor(i * num_teacher_layers / num_student_layers + 0.5)))
                for i in range(1, num_student_layers + 1)]
    if spec.startswith("top"):
        try:
            k = int(spec[3:])
        except ValueError:
            raise ValueError(
                f"layer_map={spec!r}: write the top-k map as 'top<k>', e.g. 'top3'.") from None
        # The outputs are layers 0 (embeddings) .. L, so k reaches one past the layer count.
        limit = min(num_teacher_layers, num_student_layers) + 1
        if not 1 <= k <= limit:
            raise ValueError(
                f"layer_map={spec!r}: k={k} must lie in [1, {limit}] (one more than the "
                f"smaller of the teacher's {num_teacher_layers} and the student's "
                f"{num_student_layers} layers, counting the embedding output).")
        return [(num_student_layers - j, num_teacher_layers - j) for j in reversed(range(k))]
    if not spec:
        raise ValueError("layer_map is empty; use 'uniform', 'top<k>' or 's:t,s:t' pairs.")
    try:
        items = spec.split(",")
        if all(":" in item for item in items):
            pairs = [tuple(int(v) for v in item.split(":")) for item in items]
        else:
            teachers = [int(v) for v in items]
            first = num_student_layers - len(teachers) + 1
            pairs = list(zip(range(first, num_student_layers + 1), teachers))
    except ValueError:
        raise ValueError(
            f"layer_map={spec!r} is not 'uniform', 'top<k>', 's:t,s:t' pairs or a list of "
            "teacher layers.") from None
    for student_layer, teacher_layer in pairs:
        if not 0 <= student_layer <= num_student_layers:
            raise ValueError(
                f"layer_map={spec!r} names student layer {student_layer}, outside "
                f"[0, {num_student_layers}] (0 is the embeddings output).")
        if not 0 <= teacher_layer <= num_teacher_layers:
            raise ValueError(
                f"layer_map={spec!r} names teacher layer {teacher_layer}, outside "
                f"[0, {num_teacher_layers}] (0 is the embeddings output).")
    return pairs
