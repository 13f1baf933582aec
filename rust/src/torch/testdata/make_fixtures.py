"""Write the small model.pt files the Rust tests of spinfast's torch reader use.

    python make_fixtures.py        # a Python with NumPy; torch is not needed

Each file imitates what `torch.save` writes for a Spinning Up MLPActorCritic:
the same module classes, tensor rebuild functions, persistent ids and file
layouts (zip, legacy), written by CPython's own pickler through stand-in
classes registered under torch's module names. The Rust reader is so checked
against an independent pickler, on layouts the real agents do not all have:
non-contiguous weights, storage offsets, storages shared by two tensors, legacy
storage views, pickle protocols 4 and 5, act_limit as a NumPy 1 or NumPy 2 scalar
or a float64 tensor on cuda:0, and files whose pickle calls os.system.

Weights follow formulas that the Rust tests recompute (weight(layer, i, j),
bias(layer, i) below, layer numbering the Linear layers of a network), so the
tests know every value without reading it back through the code under test.
"""

import collections
import os
import pickle
import struct
import sys
import types
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# The file the crafted os.system call would create if anything ran it.
MARKER = "/tmp/spinfast_torch_fixture_was_executed"


def weight(layer, i, j):
    return ((i * 7 + j * 3 + layer) % 11 - 5) / 8.0


def bias(layer, i):
    return ((i + layer) % 5 - 2) / 4.0


# ---- stand-ins registered under torch's (and forks') module names -------------


def module_named(name):
    """The module `name`, made (with its parent packages) if it does not exist."""
    if name not in sys.modules:
        sys.modules[name] = types.ModuleType(name)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(module_named(parent), child, sys.modules[name])
    return sys.modules[name]


def stand_in_class(module, name, base=object):
    cls = type(name, (base,), {})
    cls.__module__ = module
    cls.__qualname__ = name
    setattr(module_named(module), name, cls)
    return cls


def stand_in_function(module, name):
    def never_called(*args):
        raise RuntimeError("a stand-in is never called")

    never_called.__module__ = module
    never_called.__qualname__ = name
    never_called.__name__ = name
    setattr(module_named(module), name, never_called)
    return never_called


REBUILD_TENSOR_V2 = stand_in_function("torch._utils", "_rebuild_tensor_v2")
REBUILD_PARAMETER = stand_in_function("torch._utils", "_rebuild_parameter")
STORAGE_TYPES = {
    "float32": stand_in_class("torch", "FloatStorage"),
    "float64": stand_in_class("torch", "DoubleStorage"),
}
NUMPY1_SCALAR = stand_in_function("numpy.core.multiarray", "scalar")


class Storage:
    def __init__(self, key, values, dtype="float32", location="cpu"):
        self.key, self.values, self.dtype, self.location = key, values, dtype, location

    def bytes(self):
        code = "<f" if self.dtype == "float32" else "<d"
        return b"".join(struct.pack(code, v) for v in self.values)


class View:
    """A legacy storage view: `size` elements of `root` from `offset`."""

    def __init__(self, key, root, offset, size):
        self.key, self.root, self.offset, self.size = key, root, offset, size


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride))

    def __reduce_ex__(self, protocol):
        return (REBUILD_TENSOR_V2, self.args + (False, collections.OrderedDict()))


class Parameter(Tensor):
    def __reduce_ex__(self, protocol):
        return (REBUILD_PARAMETER, (Tensor(*self.args), True, collections.OrderedDict()))


class Module:
    """The pickled state of a torch.nn.Module (its __dict__)."""

    def __init__(self, **attrs):
        self.training = False
        self._parameters = collections.OrderedDict()
        self._buffers = collections.OrderedDict()
        self._non_persistent_buffers_set = set()
        self._backward_hooks = collections.OrderedDict()
        self._forward_hooks = collections.OrderedDict()
        self._forward_pre_hooks = collections.OrderedDict()
        self._state_dict_hooks = collections.OrderedDict()
        self._load_state_dict_pre_hooks = collections.OrderedDict()
        self._modules = collections.OrderedDict()
        self.__dict__.update(attrs)


def torch_nn(file, name):
    return stand_in_class(f"torch.nn.modules.{file}", name, Module)


Linear = torch_nn("linear", "Linear")
Identity = torch_nn("linear", "Identity")
Sequential = torch_nn("container", "Sequential")
ACTIVATIONS = {
    "Tanh": torch_nn("activation", "Tanh"),
    "ReLU": torch_nn("activation", "ReLU"),
    "ELU": torch_nn("activation", "ELU"),
    "LeakyReLU": torch_nn("activation", "LeakyReLU"),
}


class Builder:
    """Storages get keys in order of creation, as torch numbers them."""

    def __init__(self, location="cpu"):
        self.storages = []
        self.location = location

    def storage(self, values, dtype="float32"):
        s = Storage(str(len(self.storages)), values, dtype, self.location)
        self.storages.append(s)
        return s

    def linear(self, layer, inp, out, layout="plain"):
        w = [[weight(layer, i, j) for j in range(inp)] for i in range(out)]
        b = [bias(layer, i) for i in range(out)]
        if layout == "plain":
            ws = self.storage([v for row in w for v in row])
            wt = Parameter(ws, 0, (out, inp), (inp, 1))
            bt = Parameter(self.storage(b), 0, (out,), (1,))
        elif layout == "transposed_shared":
            # One storage: three unused values, W transposed (so the weight is a
            # strided view), then the bias at an offset.
            values = [99.0] * 3 + [w[i][j] for j in range(inp) for i in range(out)] + b
            s = self.storage(values)
            wt = Parameter(s, 3, (out, inp), (1, out))
            bt = Parameter(s, 3 + out * inp, (out,), (1,))
        elif layout == "legacy_view":
            # The weight lives in a view of a larger root storage.
            root = self.storage([7.0] * 5 + [v for row in w for v in row] + [7.0] * 2)
            view = View(root.key + "_view", root, 5, out * inp)
            wt = Parameter(view, 0, (out, inp), (inp, 1))
            bt = Parameter(self.storage(b), 0, (out,), (1,))
        else:
            raise ValueError(layout)
        m = Linear(in_features=inp, out_features=out)
        m._parameters["weight"] = wt
        m._parameters["bias"] = bt
        return m

    def mlp(self, sizes, activation, output_activation="Identity", first_l=0, layouts=()):
        seq = Sequential()
        for j in range(len(sizes) - 1):
            layout = layouts[j] if j < len(layouts) else "plain"
            seq._modules[str(2 * j)] = self.linear(first_l + j, sizes[j], sizes[j + 1], layout)
            act = activation if j < len(sizes) - 2 else output_activation
            seq._modules[str(2 * j + 1)] = make_activation(act)
        return seq


def make_activation(spec):
    if spec == "Identity":
        return Identity()
    name, *args = spec.split(":")
    m = ACTIVATIONS[name](inplace=False)
    if name == "LeakyReLU":
        m.negative_slope = float(args[0])
    if name == "ELU":
        m.alpha = 1.0
    return m


def fork_classes(module, *names):
    return {n: stand_in_class(module, n, Module) for n in names}


# ---- writers -------------------------------------------------------------------


class ZipPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", STORAGE_TYPES[obj.dtype], obj.key, obj.location, len(obj.values))
        return None


class LegacyPickler(pickle.Pickler):
    # As torch's legacy save: a module class is a persistent id the first time,
    # and within that id (and later) a plain global.
    classes_seen = set()

    def persistent_id(self, obj):
        if isinstance(obj, type) and issubclass(obj, Module) and obj not in self.classes_seen:
            self.classes_seen.add(obj)
            return ("module", obj, f"/home/someone/{obj.__module__}.py", "class ...: pass")
        if isinstance(obj, Storage):
            return (
                "storage",
                STORAGE_TYPES[obj.dtype],
                obj.key,
                obj.location,
                len(obj.values),
                None,
            )
        if isinstance(obj, View):
            r = obj.root
            view = (obj.key, obj.offset, obj.size)
            return ("storage", STORAGE_TYPES[r.dtype], r.key, r.location, len(r.values), view)
        return None


def write_zip(name, model, builder, folder, protocol=2, byteorder=True):
    import io

    buf = io.BytesIO()
    ZipPickler(buf, protocol=protocol).dump(model)
    records = [(f"{folder}/data.pkl", buf.getvalue())]
    if byteorder:
        records.append((f"{folder}/byteorder", b"little"))
    records += [(f"{folder}/data/{s.key}", s.bytes()) for s in builder.storages]
    records.append((f"{folder}/version", b"3\n"))
    with zipfile.ZipFile(os.path.join(HERE, name), "w", zipfile.ZIP_STORED) as z:
        for record, data in records:
            # A fixed date, so that the files are byte-reproducible.
            z.writestr(zipfile.ZipInfo(record, date_time=(1980, 1, 1, 0, 0, 0)), data)


def write_legacy(name, model, builder):
    with open(os.path.join(HERE, name), "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        sys_info = dict(
            protocol_version=1001,
            little_endian=True,
            type_sizes=dict(short=2, int=4, long=8),
        )
        pickle.dump(sys_info, f, protocol=2)
        LegacyPickler(f, protocol=2).dump(model)
        pickle.dump([s.key for s in builder.storages], f, protocol=2)
        for s in builder.storages:
            f.write(struct.pack("<q", len(s.values)))
            f.write(s.bytes())


class Numpy1Scalar:
    """A NumPy scalar as NumPy 1 pickles it (numpy.core.multiarray.scalar)."""

    def __init__(self, value, dtype):
        self.dtype = np.dtype(dtype)
        self.data = np.array(value, dtype=self.dtype).tobytes()

    def __reduce__(self):
        return (NUMPY1_SCALAR, (self.dtype, self.data))


class SystemCall:
    """What a malicious file would hold: os.system(command) at load time."""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


def main():
    # Gaussian (PPO), zip under the file's stem with a byteorder record, protocol 2:
    # a strided weight sharing its storage with the bias at an offset.
    c = fork_classes("PPO.core", "MLPActorCritic", "MLPGaussianActor", "MLPCritic")
    b = Builder()
    pi = c["MLPGaussianActor"]()
    pi._parameters["log_std"] = Parameter(b.storage([-0.5, -1.0]), 0, (2,), (1,))
    pi._modules["mu_net"] = b.mlp([3, 4, 2], "Tanh", layouts=["transposed_shared"])
    v = c["MLPCritic"]()
    v._modules["v_net"] = b.mlp([3, 4, 1], "Tanh", first_l=100)
    ac = c["MLPActorCritic"]()
    ac._modules["pi"] = pi
    ac._modules["v"] = v
    write_zip("gaussian_zip.pt", ac, b, folder="gaussian_zip")

    # Categorical (VPG), legacy, a bare `core` module, a weight in a storage view.
    c = fork_classes("core", "MLPActorCritic", "MLPCategoricalActor", "MLPCritic")
    b = Builder()
    pi = c["MLPCategoricalActor"]()
    pi._modules["logits_net"] = b.mlp([4, 5, 5, 3], "ReLU", layouts=["plain", "legacy_view"])
    v = c["MLPCritic"]()
    v._modules["v_net"] = b.mlp([4, 5, 5, 1], "ReLU", first_l=100)
    ac = c["MLPActorCritic"]()
    ac._modules["pi"] = pi
    ac._modules["v"] = v
    write_legacy("categorical_legacy.pt", ac, b)

    # DDPG, legacy, saved from CUDA, act_limit a NumPy 2 float32 scalar.
    c = fork_classes("DDPG.core", "MLPActorCritic", "MLPActor", "MLPQFunction")
    b = Builder(location="cuda:0")
    pi = c["MLPActor"](act_limit=np.float32(2.0))
    pi._modules["pi"] = b.mlp([3, 6, 2], "ReLU", "Tanh")
    q = c["MLPQFunction"]()
    q._modules["q"] = b.mlp([5, 6, 1], "ReLU", first_l=100)
    ac = c["MLPActorCritic"]()
    ac._modules["pi"] = pi
    ac._modules["q"] = q
    write_legacy("ddpg_legacy.pt", ac, b)

    # SAC, zip under archive/ without byteorder, protocol 4 (FRAME, STACK_GLOBAL,
    # MEMOIZE), LeakyReLU, act_limit a 0-d float64 tensor on cuda:0.
    c = fork_classes("src.sac.core", "MLPActorCritic", "SquashedGaussianMLPActor", "MLPQFunction")
    b = Builder(location="cuda:0")
    limit = Tensor(b.storage([2.0], dtype="float64"), 0, (), ())
    pi = c["SquashedGaussianMLPActor"](act_limit=limit)
    pi._modules["net"] = b.mlp([3, 4, 4], "LeakyReLU:0.2", "LeakyReLU:0.2")
    pi._modules["mu_layer"] = b.linear(2, 4, 2)
    pi._modules["log_std_layer"] = b.linear(3, 4, 2)
    q1 = c["MLPQFunction"]()
    q1._modules["q"] = b.mlp([5, 4, 1], "ReLU", first_l=100)
    ac = c["MLPActorCritic"]()
    ac._modules["pi"] = pi
    ac._modules["q1"] = q1
    write_zip("sac_zip.pt", ac, b, folder="archive", protocol=4, byteorder=False)

    # TD3, zip under an arbitrary folder, protocol 5, ELU, act_limit a NumPy 1
    # float64 scalar (numpy.core.multiarray.scalar).
    c = fork_classes("TD3.core", "MLPActorCritic", "MLPActor", "MLPCritic")
    b = Builder()
    pi = c["MLPActor"](act_limit=Numpy1Scalar(1.5, "<f8"))
    pi._modules["pi"] = b.mlp([2, 3, 1], "ELU", "Tanh")
    ac = c["MLPActorCritic"]()
    ac._modules["pi"] = pi
    write_zip("td3_zip.pt", ac, b, folder="some folder", protocol=5)

    # Malicious: the same DDPG shape, with os.system where act_limit was.
    for name, write in [("evil_zip.pt", "zip"), ("evil_legacy.pt", "legacy")]:
        c = fork_classes("DDPG.core", "MLPActorCritic", "MLPActor")
        b = Builder()
        pi = c["MLPActor"](act_limit=SystemCall())
        pi._modules["pi"] = b.mlp([3, 6, 2], "ReLU", "Tanh")
        ac = c["MLPActorCritic"]()
        ac._modules["pi"] = pi
        if write == "zip":
            write_zip(name, ac, b, folder="archive")
        else:
            write_legacy(name, ac, b)


if __name__ == "__main__":
    main()
