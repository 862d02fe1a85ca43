# Regenerate fuzz/corpus/store/seed-* from real stores: PYTHONPATH=python python fuzz/make_store_seeds.py fuzz/corpus/store
import json
import shutil
import sys
from pathlib import Path

import grumpy as gr
import numpy as np
import zarr

SEP = b"\n%%\n"
out = sys.argv[1]


def seed(name, obj):
    p = f"/tmp/seed-{name}.zarr"
    gr.save(obj, p)
    attrs = json.loads(Path(p, "zarr.json").read_text())["attributes"]
    g = zarr.open_group(p, mode="r")
    b = json.dumps(attrs).encode()
    for buf in gr.open(p).info()["chunks"]:
        a = np.asarray(g[buf][:])
        a = np.concatenate([a, np.zeros((-len(a)) % 4, dtype=a.dtype)])  # whole chunks of 4
        b += SEP + bytes([3]) + a.astype(a.dtype.newbyteorder("<")).tobytes()
    Path(out, f"seed-{name}").write_bytes(b)
    shutil.rmtree(p)


seed("ragged-f64", gr.array([[1.0, 2.0], [], [3.0]]))
seed("deep-i64", gr.array([[[1, 2], [3]], [], [[4]]]))
seed("flat-bool", gr.array([True, False, True]))
seed("union", gr.array([1.0, [2.0, 3.0], 4.0]))
seed("nulls", gr.array([[1.0, None], None, []]))
seed("strings", gr.array(["ab", None, ""], dtype=gr.string))
seed(
    "frame",
    gr.dataframe(
        {"x": gr.array([[1], [2, 3], []]), "n": gr.array([5, 6, 7])}, schema=["mol", "res"]
    ),
)
