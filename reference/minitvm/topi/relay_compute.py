"""Relay operators in TE: the ``FTVMCompute`` of each operator TVM lowers through TOPI
(TVM's ``python/tvm/relay/op/_tensor.py``, ``_transform.py``, ``nn/_nn.py``, ``strategy``).

A compute is ``fcompute(attrs, inputs, out_type) -> list[Tensor]``: the call's attrs, one TE
placeholder per tensor argument (tuple arguments flattened, as in TVM) and the output type
InferType found; it returns one tensor per output (a tuple output gives several).
``register()`` attaches every compute to its operator's record with
``register_op_attr(name, "FTVMCompute", fn)``; it runs once the Relay operators are defined
(importing ``minitvm.relay`` defines them) and is idempotent. Attributes are read by name and
checked, so this module does not depend on the attrs classes.
"""

from __future__ import annotations

from collections.abc import Callable

from minitvm.error import DiagnosticError
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var
from minitvm.topi import broadcast, math, nn, reduction, transform
from minitvm.topi.scan import cumprod, cumsum
from minitvm.topi.tensor import full, full_like
from minitvm.topi.utils import compute, const_vector, get_const_int, normalize_axis

__all__ = ["COMPUTES", "FCompute", "register"]

FCompute = Callable[[object, list[Tensor], Type], list[Tensor]]
COMPUTES: dict[str, FCompute] = {}


def _defines(*names: str) -> Callable[[FCompute], FCompute]:
    def deco(fn: FCompute) -> FCompute:
        for n in names:
            COMPUTES[n] = fn
        return fn

    return deco


def register() -> None:
    """Attach every compute to its registered operator (once)."""
    import minitvm.relay  # noqa: F401  (defines the operators)
    from minitvm.ir.op import get_op_def, list_op_names, register_op_attr

    known = set(list_op_names())
    for name, fn in COMPUTES.items():
        if name in known and get_op_def(name).get_extra("FTVMCompute") is None:
            register_op_attr(name, "FTVMCompute", fn)


# --- attribute access ------------------------------------------------------------------------


def _get(attrs: object, name: str) -> object:
    if attrs is None or not hasattr(attrs, name):
        raise DiagnosticError(f"compute: attributes {type(attrs).__name__} have no field {name!r}")
    value: object = getattr(attrs, name)
    return value


def _int(attrs: object, name: str) -> int:
    v = _get(attrs, name)
    if not isinstance(v, int):
        raise DiagnosticError(f"compute: attribute {name} must be an int, got {v!r}")
    return v


def _opt_int(attrs: object, name: str) -> int | None:
    v = _get(attrs, name)
    return None if v is None else _int(attrs, name)


def _ints(attrs: object, name: str) -> tuple[int, ...] | None:
    v = _get(attrs, name)
    if v is None:
        return None
    items = v if isinstance(v, tuple | list) else (v,)
    if not all(isinstance(x, int) for x in items):
        raise DiagnosticError(f"compute: attribute {name} must hold ints, got {v!r}")
    return tuple(int(x) for x in items)


def _opt_ints(attrs: object, name: str) -> tuple[int | None, ...] | None:
    v = _get(attrs, name)
    if v is None:
        return None
    items = v if isinstance(v, tuple | list) else (v,)
    return tuple(None if x is None else int(x) for x in items)


def _str(attrs: object, name: str) -> str:
    v = _get(attrs, name)
    if not isinstance(v, str):
        raise DiagnosticError(f"compute: attribute {name} must be a string, got {v!r}")
    return v


def _float(attrs: object, name: str) -> float:
    v = _get(attrs, name)
    if not isinstance(v, int | float):
        raise DiagnosticError(f"compute: attribute {name} must be a number, got {v!r}")
    return float(v)


def _bool(attrs: object, name: str) -> bool:
    return bool(_get(attrs, name))


def _tensor_type(ty: Type) -> TensorType:
    if not isinstance(ty, TensorType):
        raise DiagnosticError(f"compute: expected a tensor output type, got {ty}")
    return ty


def _as_tensor(t: Tensor | PrimExpr) -> Tensor:
    if not isinstance(t, Tensor):
        raise DiagnosticError("expected a tensor")
    return t


# --- elementwise and broadcast ------------------------------------------------------------------

_UNARY: dict[str, Callable[[Tensor], Tensor]] = {
    "abs": math.abs,
    "acos": math.acos,
    "acosh": math.acosh,
    "asin": math.asin,
    "asinh": math.asinh,
    "atan": math.atan,
    "atanh": math.atanh,
    "ceil": math.ceil,
    "cos": math.cos,
    "cosh": math.cosh,
    "erf": math.erf,
    "exp": math.exp,
    "fast_erf": math.fast_erf,
    "fast_exp": math.fast_exp,
    "fast_tanh": math.fast_tanh,
    "floor": math.floor,
    "isfinite": math.isfinite,
    "isinf": math.isinf,
    "isnan": math.isnan,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "negative": math.negative,
    "round": math.round,
    "rsqrt": math.rsqrt,
    "sigmoid": math.sigmoid,
    "sign": math.sign,
    "sin": math.sin,
    "sinh": math.sinh,
    "sqrt": math.sqrt,
    "tan": math.tan,
    "tanh": math.tanh,
    "trunc": math.trunc,
    "copy": math.identity,
    "logical_not": broadcast.logical_not,
    "bitwise_not": broadcast.bitwise_not,
    "nn.relu": nn.relu,
}

_BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add": broadcast.add,
    "subtract": broadcast.subtract,
    "multiply": broadcast.multiply,
    "divide": broadcast.divide,
    "floor_divide": broadcast.floor_divide,
    "trunc_divide": broadcast.trunc_divide,
    "mod": broadcast.mod,
    "floor_mod": broadcast.floor_mod,
    "trunc_mod": broadcast.trunc_mod,
    "maximum": broadcast.maximum,
    "minimum": broadcast.minimum,
    "power": broadcast.power,
    "logical_and": broadcast.logical_and,
    "logical_or": broadcast.logical_or,
    "logical_xor": broadcast.logical_xor,
    "bitwise_and": broadcast.bitwise_and,
    "bitwise_or": broadcast.bitwise_or,
    "bitwise_xor": broadcast.bitwise_xor,
    "left_shift": broadcast.left_shift,
    "right_shift": broadcast.right_shift,
    "equal": broadcast.equal,
    "not_equal": broadcast.not_equal,
    "less": broadcast.less,
    "less_equal": broadcast.less_equal,
    "greater": broadcast.greater,
    "greater_equal": broadcast.greater_equal,
}


def _unary_compute(f: Callable[[Tensor], Tensor]) -> FCompute:
    return lambda attrs, inputs, out_type: [f(inputs[0])]


def _binary_compute(f: Callable[[Tensor, Tensor], Tensor]) -> FCompute:
    return lambda attrs, inputs, out_type: [f(inputs[0], inputs[1])]


COMPUTES.update({name: _unary_compute(f) for name, f in _UNARY.items()})
COMPUTES.update({name: _binary_compute(f) for name, f in _BINARY.items()})


@_defines("clip")
def _clip(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [math.clip(inputs[0], _float(attrs, "a_min"), _float(attrs, "a_max"))]


@_defines("cast", "cast_like")
def _cast(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [_as_tensor(math.cast(inputs[0], _tensor_type(out_type).dtype))]


@_defines("reinterpret")
def _reinterpret(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [math.reinterpret(inputs[0], _tensor_type(out_type).dtype)]


@_defines("full_like")
def _full_like(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    data, fill = inputs
    dtype = data.dtype
    return [compute(data.shape, lambda ax: _fill_value(fill, dtype), "T_full_like", "elemwise")]


def _fill_value(fill: Tensor, dtype: str) -> PrimExpr:
    v = fill()
    if dtype == "bool":
        return tir_op.not_equal(v, tir_op.cast(0, v.dtype))
    return tir_op.cast(v, dtype)


@_defines("full")
def _full(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    ty = _tensor_type(out_type)
    fill = inputs[0]
    return [compute(list(ty.shape), lambda ax: _fill_value(fill, ty.dtype), "T_full", "elemwise")]


def _constant_fill(value: int) -> FCompute:
    def fn(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
        ty = _tensor_type(out_type)
        if inputs:
            return [full_like(inputs[0], value)]
        return [full(ty.shape, ty.dtype, value)]

    return fn


COMPUTES.update(
    {
        "zeros": _constant_fill(0),
        "ones": _constant_fill(1),
        "zeros_like": _constant_fill(0),
        "ones_like": _constant_fill(1),
    }
)


# --- reductions ----------------------------------------------------------------------------------


def _reduce_axes(attrs: object, ndim: int, op: str) -> list[int]:
    axis = _ints(attrs, "axis")
    if not axis:  # TVM's GetReduceAxes: no axes means all, with or without exclude
        return list(range(ndim))
    chosen = [normalize_axis(a, ndim, op) for a in axis]
    if _bool(attrs, "exclude"):
        chosen = [k for k in range(ndim) if k not in chosen]
    return chosen


def _reducer(f: Callable[..., Tensor], op: str) -> FCompute:
    def fn(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
        x = inputs[0]
        axes = _reduce_axes(attrs, x.ndim, op)
        keep = _bool(attrs, "keepdims")
        if not axes:
            return [math.identity(x)]
        return [f(x, axis=axes, keepdims=keep)]

    return fn


COMPUTES.update(
    {
        "sum": _reducer(reduction.sum, "sum"),
        "prod": _reducer(reduction.prod, "prod"),
        "max": _reducer(reduction.max, "max"),
        "min": _reducer(reduction.min, "min"),
        "all": _reducer(reduction.all, "all"),
        "any": _reducer(reduction.any, "any"),
    }
)


def _count(x: Tensor, axes: list[int]) -> int:
    n = 1
    for a in axes:
        n *= get_const_int(x.shape[a])
    return n


@_defines("mean")
def _mean(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    x = inputs[0]
    axes = _reduce_axes(attrs, x.ndim, "mean")
    total = reduction.sum(x, axis=axes, keepdims=_bool(attrs, "keepdims")) if axes else x
    return [broadcast.divide(total, _count(x, axes))]


@_defines("variance")
def _variance(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    x, mean = inputs
    axes = _reduce_axes(attrs, x.ndim, "variance")
    dev = broadcast.subtract(x, mean)
    sq = reduction.sum(broadcast.multiply(dev, dev), axis=axes, keepdims=_bool(attrs, "keepdims"))
    n = _count(x, axes) - (1 if _bool(attrs, "unbiased") else 0)
    return [broadcast.divide(sq, n)]


def _arg_reducer(f: Callable[..., Tensor]) -> FCompute:
    def fn(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
        x = inputs[0]
        axes = _reduce_axes(attrs, x.ndim, "argmax")
        last = _bool(attrs, "select_last_index")
        out = f(x, axis=axes, keepdims=_bool(attrs, "keepdims"), select_last_index=last)
        ty = _tensor_type(out_type)
        return [out if out.dtype == ty.dtype else _as_tensor(math.cast(out, ty.dtype))]

    return fn


COMPUTES["argmax"] = _arg_reducer(reduction.argmax)
COMPUTES["argmin"] = _arg_reducer(reduction.argmin)


# --- transforms ---------------------------------------------------------------------------------


@_defines("reshape", "reshape_like", "nn.batch_flatten")
def _reshape(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [transform.reshape(inputs[0], _tensor_type(out_type).shape)]


@_defines("broadcast_to", "broadcast_to_like")
def _broadcast_to(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [broadcast.broadcast_to(inputs[0], _tensor_type(out_type).shape)]


@_defines("transpose")
def _transpose(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    axes = _ints(attrs, "axes")
    return [transform.transpose(inputs[0], axes or None)]


@_defines("expand_dims")
def _expand_dims(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [transform.expand_dims(inputs[0], _int(attrs, "axis"), _int(attrs, "num_newaxis"))]


@_defines("squeeze")
def _squeeze(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [transform.squeeze(inputs[0], _ints(attrs, "axis"))]


@_defines("concatenate")
def _concatenate(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [transform.concatenate(inputs, _int(attrs, "axis"))]


@_defines("stack")
def _stack(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [transform.stack(inputs, _int(attrs, "axis"))]


@_defines("split")
def _split(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    v = _get(attrs, "indices_or_sections")
    sections: int | list[int] = (
        v if isinstance(v, int) else list(_ints(attrs, "indices_or_sections") or ())
    )
    return transform.split(inputs[0], sections, _int(attrs, "axis"))


@_defines("take")
def _take(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [
        transform.take(
            inputs[0],
            inputs[1],
            _opt_int(attrs, "axis"),
            _int(attrs, "batch_dims"),
            _str(attrs, "mode"),
        )
    ]


@_defines("strided_slice")
def _strided_slice(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    begin = _opt_ints(attrs, "begin") or ()
    end = _opt_ints(attrs, "end") or ()
    return [
        transform.strided_slice(
            inputs[0],
            begin,
            end,
            _ints(attrs, "strides"),
            _ints(attrs, "axes"),
            _str(attrs, "slice_mode"),
        )
    ]


@_defines("where")
def _where(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [transform.where(inputs[0], inputs[1], inputs[2])]


@_defines("gather")
def _gather(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    axis = _opt_int(attrs, "axis")
    return [transform.gather(inputs[0], 0 if axis is None else axis, inputs[1])]


@_defines("gather_nd")
def _gather_nd(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [transform.gather_nd(inputs[0], inputs[1], _int(attrs, "batch_dims"))]


@_defines("tile")
def _tile(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [transform.tile(inputs[0], _ints(attrs, "reps") or ())]


@_defines("repeat")
def _repeat(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    axis = _opt_int(attrs, "axis")
    x = inputs[0] if axis is not None else transform.reshape(inputs[0], [-1])
    return [transform.repeat(x, _int(attrs, "repeats"), 0 if axis is None else axis)]


@_defines("reverse")
def _reverse(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    axis = _opt_int(attrs, "axis")
    return [transform.flip(inputs[0], 0 if axis is None else axis)]


def _scan(f: Callable[..., Tensor]) -> FCompute:
    def fn(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
        dtype = _str(attrs, "dtype") or None
        return [f(inputs[0], _opt_int(attrs, "axis"), dtype, _bool(attrs, "exclusive"))]

    return fn


COMPUTES["cumsum"] = _scan(cumsum)
COMPUTES["cumprod"] = _scan(cumprod)


@_defines("one_hot")
def _one_hot(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    indices, on, off = inputs
    ty = _tensor_type(out_type)
    return [
        transform.one_hot(indices, on(), off(), _int(attrs, "depth"), _int(attrs, "axis"), ty.dtype)
    ]


@_defines("arange")
def _arange(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    ty = _tensor_type(out_type)
    start, step = _float(attrs, "start"), _float(attrs, "step")
    n = ty.shape[0]

    def body(ax: list[Var]) -> PrimExpr:
        value = tir_op.cast(ax[0], "float64") * step + start
        return tir_op.cast(value, ty.dtype)

    return [compute([n], body, "T_arange", "elemwise")]


# --- nn -----------------------------------------------------------------------------------------


def _out_dtype(attrs: object) -> str | None:
    return _str(attrs, "out_dtype") or None


@_defines("nn.dense")
def _dense(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    data, weight = inputs
    ty = _tensor_type(out_type)
    if data.ndim == 2:
        return [nn.dense(data, weight, None, _out_dtype(attrs))]
    flat = transform.reshape(data, [-1, get_const_int(data.shape[-1])])
    return [transform.reshape(nn.dense(flat, weight, None, _out_dtype(attrs)), ty.shape)]


@_defines("nn.matmul")
def _matmul(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    a, b = inputs
    ta, tb = _bool(attrs, "transpose_a"), _bool(attrs, "transpose_b")
    return [nn.matmul(a, b, None, _out_dtype(attrs), ta, tb)]


@_defines("nn.batch_matmul")
def _batch_matmul(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    a, b = inputs
    ta, tb = _bool(attrs, "transpose_a"), _bool(attrs, "transpose_b")
    return [nn.batch_matmul(a, b, None, _out_dtype(attrs), ta, tb)]


@_defines("nn.bias_add")
def _bias_add(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [nn.bias_add(inputs[0], inputs[1], _int(attrs, "axis"))]


@_defines("nn.leaky_relu")
def _leaky_relu(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [nn.leaky_relu(inputs[0], _float(attrs, "alpha"))]


@_defines("nn.prelu")
def _prelu(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [nn.prelu(inputs[0], inputs[1], _int(attrs, "axis"))]


@_defines("nn.softmax", "nn.fast_softmax")
def _softmax(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [nn.softmax(inputs[0], _int(attrs, "axis"))]


@_defines("nn.log_softmax")
def _log_softmax(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [nn.log_softmax(inputs[0], _int(attrs, "axis"))]


@_defines("nn.dropout")
def _dropout(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    x = inputs[0]
    return [math.identity(x), full_like(x, 1)]


@_defines("nn.conv1d", "nn.conv2d", "nn.conv3d")
def _conv(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    layout = _str(attrs, "data_layout")
    out_layout = _str(attrs, "out_layout")
    if out_layout and out_layout != layout:
        raise DiagnosticError(f"conv: out_layout {out_layout} differs from {layout}")
    padding = _ints(attrs, "padding") or (0,)
    out = nn.conv(
        inputs[0],
        inputs[1],
        _ints(attrs, "strides") or (1,),
        padding,
        _ints(attrs, "dilation") or (1,),
        _int(attrs, "groups"),
        layout,
        _str(attrs, "kernel_layout"),
        _tensor_type(out_type).dtype,
    )
    return [out]


@_defines("nn.conv1d_transpose", "nn.conv2d_transpose", "nn.conv3d_transpose")
def _conv_transpose(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    layout = _str(attrs, "data_layout")
    if not layout.startswith("NC") or any(d != 1 for d in _ints(attrs, "dilation") or ()):
        raise DiagnosticError("conv_transpose: only channels-first data without dilation")
    kernel_layout = _str(attrs, "kernel_layout")
    if kernel_layout and not kernel_layout.startswith("IO"):
        raise DiagnosticError(f"conv_transpose: kernel layout {kernel_layout} is not IO...")
    out = nn.conv_transpose(
        inputs[0],
        inputs[1],
        _ints(attrs, "strides") or (1,),
        _ints(attrs, "padding") or (0,),
        _tensor_type(out_type).dtype,
        _ints(attrs, "output_padding") or (0,),
        _int(attrs, "groups"),
    )
    return [out]


def _pool_padding(attrs: object, dim: int) -> list[int]:
    pads = list(_ints(attrs, "padding") or (0,))
    if len(pads) == 1:
        pads = pads * (2 * dim)
    elif len(pads) == dim:
        pads = pads + pads
    return pads


def _same_out_layout(attrs: object, layout: str) -> None:
    out_layout = _str(attrs, "out_layout") if hasattr(attrs, "out_layout") else ""
    if out_layout and out_layout != layout:
        raise DiagnosticError(f"pool: out_layout {out_layout} differs from {layout}")


def _pool(pool_type: str, dim: int) -> FCompute:
    def fn(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
        layout = _str(attrs, "layout")
        _same_out_layout(attrs, layout)
        cip = _bool(attrs, "count_include_pad") if hasattr(attrs, "count_include_pad") else False
        out = nn.pooling.pool_nd(
            inputs[0],
            _ints(attrs, "pool_size") or (1,),
            _ints(attrs, "strides") or (1,),
            _ints(attrs, "dilation") or (1,),
            _pool_padding(attrs, dim),
            pool_type,
            _bool(attrs, "ceil_mode"),
            layout,
            cip,
        )
        return [out]

    return fn


def _adaptive(pool_type: str) -> FCompute:
    def fn(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
        layout = _str(attrs, "layout")
        _same_out_layout(attrs, layout)
        ty = _tensor_type(out_type)
        sizes = [ty.shape[layout.index(c)] for c in layout if c in "DHW"]
        adaptive = {3: nn.adaptive_pool1d, 4: nn.adaptive_pool, 5: nn.adaptive_pool3d}[len(layout)]
        return [adaptive(inputs[0], sizes, pool_type, layout)]

    return fn


for _dim in (1, 2, 3):
    COMPUTES[f"nn.max_pool{_dim}d"] = _pool("max", _dim)
    COMPUTES[f"nn.avg_pool{_dim}d"] = _pool("avg", _dim)
    COMPUTES[f"nn.adaptive_max_pool{_dim}d"] = _adaptive("max")
    COMPUTES[f"nn.adaptive_avg_pool{_dim}d"] = _adaptive("avg")
COMPUTES["nn.global_max_pool2d"] = _adaptive("max")
COMPUTES["nn.global_avg_pool2d"] = _adaptive("avg")


def _scale_shift(attrs: object, gamma: Tensor, beta: Tensor) -> tuple[Tensor, Tensor]:
    g = gamma if _bool(attrs, "scale") else full_like(gamma, 1)
    b = beta if _bool(attrs, "center") else full_like(beta, 0)
    return g, b


@_defines("nn.batch_norm")
def _batch_norm(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    x, gamma, beta, mean, var = inputs
    return nn.batch_norm(
        x,
        gamma,
        beta,
        mean,
        var,
        _int(attrs, "axis"),
        _float(attrs, "epsilon"),
        _bool(attrs, "center"),
        _bool(attrs, "scale"),
    )


@_defines("nn.layer_norm")
def _layer_norm(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    x, gamma, beta = inputs
    g, b = _scale_shift(attrs, gamma, beta)
    return [nn.layer_norm(x, g, b, [_int(attrs, "axis")], _float(attrs, "epsilon"))]


@_defines("nn.instance_norm")
def _instance_norm(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    x, gamma, beta = inputs
    axis = normalize_axis(_int(attrs, "axis"), x.ndim, "instance_norm")
    g, b = _scale_shift(attrs, gamma, beta)
    others = [k for k in range(1, x.ndim) if k != axis]
    return [nn.instance_norm(x, g, b, axis, others, _float(attrs, "epsilon"))]


@_defines("nn.group_norm")
def _group_norm(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    x, gamma, beta = inputs
    axis = normalize_axis(_int(attrs, "axis"), x.ndim, "group_norm")
    g, b = _scale_shift(attrs, gamma, beta)
    later = list(range(axis + 1, x.ndim))  # with the group's channels (OP-21)
    return [
        nn.group_norm(x, g, b, _int(attrs, "num_groups"), axis, later, _float(attrs, "epsilon"))
    ]


@_defines("nn.lrn")
def _lrn(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [
        nn.lrn(
            inputs[0],
            _int(attrs, "size"),
            _int(attrs, "axis"),
            _float(attrs, "alpha"),
            _float(attrs, "beta"),
            _float(attrs, "bias"),
        )
    ]


def outputs_of(out_type: Type) -> int:
    """The number of tensors a compute returns for ``out_type``."""
    return len(out_type.fields) if isinstance(out_type, TupleType) else 1


def _pairs(attrs: object, name: str) -> list[tuple[int, int]]:
    v = _get(attrs, name)
    if not isinstance(v, tuple | list):
        raise DiagnosticError(f"compute: attribute {name} must hold pairs, got {v!r}")
    pairs: list[tuple[int, int]] = []
    for p in v:
        if not isinstance(p, tuple | list) or len(p) != 2:
            raise DiagnosticError(f"compute: attribute {name} must hold pairs, got {v!r}")
        pairs.append((int(p[0]), int(p[1])))
    return pairs


@_defines("nn.pad")
def _pad(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    data = inputs[0]
    pairs = _pairs(attrs, "pad_width")
    before, after = [p[0] for p in pairs], [p[1] for p in pairs]
    mode = _str(attrs, "pad_mode")
    if mode == "constant":
        fill = inputs[1]
        return [nn.pad(data, before, after, tir_op.cast(fill(), data.dtype))]
    if mode == "edge":
        return [nn.edge_pad(data, before, after)]
    return [nn.mirror_pad(data, before, after, "REFLECT")]


@_defines("nn.dilate")
def _dilate(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [nn.dilate(inputs[0], _ints(attrs, "strides") or (), _float(attrs, "dilation_value"))]


@_defines("nn.upsampling")
def _upsampling(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    out = nn.upsampling(
        inputs[0],
        _float(attrs, "scale_h"),
        _float(attrs, "scale_w"),
        _str(attrs, "layout"),
        _str(attrs, "method"),
        _bool(attrs, "align_corners"),
    )
    return [out]


@_defines("nn.depth_to_space")
def _depth_to_space(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    block = _int(attrs, "block_size")
    return [nn.depth_to_space(inputs[0], block, _str(attrs, "layout"), _str(attrs, "mode"))]


@_defines("nn.space_to_depth")
def _space_to_depth(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [nn.space_to_depth(inputs[0], _int(attrs, "block_size"), _str(attrs, "layout"))]


@_defines("nn.space_to_batch_nd")
def _space_to_batch(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    pairs = _pairs(attrs, "paddings")
    out = nn.space_to_batch_nd(
        inputs[0],
        _ints(attrs, "block_shape") or (),
        [p[0] for p in pairs],
        [p[1] for p in pairs],
        _float(attrs, "pad_value"),
    )
    return [out]


@_defines("nn.batch_to_space_nd")
def _batch_to_space(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    pairs = _pairs(attrs, "crops")
    block = _ints(attrs, "block_shape") or ()
    return [nn.batch_to_space_nd(inputs[0], block, [p[0] for p in pairs], [p[1] for p in pairs])]


@_defines("nn.nll_loss")
def _nll_loss(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    p, t, w = inputs
    return [nn.nll_loss(p, t, w, _str(attrs, "reduction"), _int(attrs, "ignore_index"))]


def _pool_grad(pool_type: str) -> FCompute:
    def fn(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
        cip = _bool(attrs, "count_include_pad") if hasattr(attrs, "count_include_pad") else False
        out = nn.pool_grad(
            inputs[0],
            inputs[1],
            _ints(attrs, "pool_size") or (1,),
            _ints(attrs, "strides") or (1,),
            _pool_padding(attrs, 2),
            pool_type,
            _bool(attrs, "ceil_mode"),
            cip,
            _str(attrs, "layout"),
        )
        return [out]

    return fn


COMPUTES["nn.max_pool2d_grad"] = _pool_grad("max")
COMPUTES["nn.avg_pool2d_grad"] = _pool_grad("avg")


@_defines("collapse_sum_like", "collapse_sum_to")
def _collapse_sum(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    """The reverse of broadcasting: sum the broadcast axes back to the target shape."""
    x = inputs[0]
    shape = _tensor_type(out_type).shape
    lead = x.ndim - len(shape)
    axes = list(range(lead)) + [
        lead + i for i, d in enumerate(shape) if d == 1 and get_const_int(x.shape[lead + i]) != 1
    ]
    if not axes:
        return [math.identity(x)]
    return [transform.reshape(reduction.sum(x, axis=axes, keepdims=True), shape)]


@_defines("annotation.stop_fusion")
def _stop_fusion(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    return [math.identity(inputs[0])]


@_defines("shape_of")
def _shape_of(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    ty = _tensor_type(out_type)
    dims = [get_const_int(d) for d in inputs[0].shape]
    return [const_vector(dims, ty.dtype, "T_shape")]


@_defines("ndarray_size")
def _ndarray_size(attrs: object, inputs: list[Tensor], out_type: Type) -> list[Tensor]:
    ty = _tensor_type(out_type)
    n = 1
    for d in inputs[0].shape:
        n *= get_const_int(d)
    return [full((), ty.dtype, n)]
