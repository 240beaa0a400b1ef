"""Devices for the workers' tasks: slots, ``devices="auto"``, moving models.

A searcher's ``devices`` lists device slots, one per entry: ``["cuda:0",
"cuda:1"]`` runs at most one task on each GPU, ``["cuda:0", "cuda:0"]`` two on
one. The search loop gives each (trial, fold) task a free slot when it submits
the task and takes it back when the task returns, so no device runs more tasks
than it has slots; a task waits in the loop while every slot is taken.

In the worker, :func:`run_on_device` sets the estimator's device parameter
(``device``, or a Pipeline step's ``<step>__device``) to the slot's device,
moving a fitted skorch net there, runs the task, and moves the model it sends
back (incremental searchers keep it for the next rung or round) to the CPU, so
that the GPU holds only the models of running tasks. A fit that runs out of
device memory fails like any fit (``error_score``) with a hint in its fit error,
and the worker empties torch's CUDA cache.

torch is never imported here: a net exists only when torch is already imported,
so the functions look in ``sys.modules``.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ._transfer import ModelParcel
from .integration._skorch import is_skorch_net

__all__ = [
    "DeviceSlots",
    "Placement",
    "check_devices",
    "find_device_param",
    "move_to_device",
    "resolve_devices",
    "run_on_device",
]

_CUDA = re.compile(r"cuda(?::(\d+))?")
#: Where models waiting between rungs or rounds are kept.
PARKING_DEVICE = "cpu"


def find_device_param(estimator: Any) -> str | None:
    """The name of ``estimator``'s device parameter, from ``get_params()``.

    ``device`` itself (a skorch net), else the one key ending in ``__device``
    (a Pipeline step's); None when there is none. Several ``__device`` keys
    and no ``device`` raise, since one slot cannot be given to several steps.
    """
    names = list(estimator.get_params(deep=True))
    if "device" in names:
        return "device"
    nested = [name for name in names if name.endswith("__device")]
    if len(nested) > 1:
        raise ValueError(
            f"devices sets one device parameter per task, but "
            f"{type(estimator).__name__} has several: {nested}; use devices=None "
            "and set each step's device yourself."
        )
    return nested[0] if nested else None


def check_devices(devices: Any, estimator: Any, searched: Iterable[str] = ()) -> str | None:
    """Validate ``devices`` before any fit; the estimator's device parameter.

    None for ``devices=None``. ``searched`` are the ``search_spaces`` names,
    which must not include the parameter ``devices`` sets.
    """
    if devices is None:
        return None
    if not isinstance(devices, str):
        _check_device_list(devices)
    param = find_device_param(estimator)
    if param is None:
        name = type(estimator).__name__
        raise ValueError(
            f"devices={devices!r} sets the estimator's device parameter, but {name} "
            f"has none ('device', or one '<step>__device', in {name}.get_params()); "
            "use devices=None, or an estimator with a device parameter such as a "
            "skorch net."
        )
    if param in set(searched):
        raise ValueError(
            f"search_spaces names {param!r}, which devices={devices!r} sets for "
            f"every task; remove {param!r} from search_spaces or use devices=None."
        )
    return param


def _check_device_list(devices: list) -> None:
    if len(devices) == 0:
        raise ValueError(
            "devices=[] lists no device; list one entry per concurrent task, such as "
            "devices=['cuda:0', 'cuda:1'], or use devices='auto' or None."
        )
    for device in devices:
        if not isinstance(device, str) or not device:
            raise ValueError(
                f"devices={devices!r} has {device!r}, which is not a device name; "
                "give strings such as 'cuda:0' or 'cpu' (str(device) for a "
                "torch.device)."
            )
        if not device.startswith("cuda"):
            continue
        match = _CUDA.fullmatch(device)
        if match is None:
            raise ValueError(
                f"devices={devices!r} has {device!r}, which is not a CUDA device "
                "name; write 'cuda' or 'cuda:<index>', such as 'cuda:0'."
            )
        count = _cuda_device_count()
        index = int(match.group(1) or 0)
        if count is not None and index >= count:
            visible = (f"cuda:0 to cuda:{count - 1}" if count else
                       "none: this torch sees no GPU")
            raise ValueError(
                f"devices={devices!r} has {device!r}, but torch.cuda.device_count() "
                f"is {count} (visible devices: {visible}); list only visible "
                "devices, or use devices='auto'."
            )


def _cuda_device_count() -> int | None:
    """Visible CUDA devices; None when torch is not installed (nothing to check)."""
    try:
        import torch
    except ImportError:
        return None
    return torch.cuda.device_count()


def resolve_devices(devices: Any, n_workers: int) -> list[str] | None:
    """The device slots: ``devices`` itself, or for ``"auto"`` every visible GPU.

    ``"auto"`` without a GPU (or without torch) gives one ``"cpu"`` slot per
    worker, so the search runs as it would on the CPU.
    """
    if devices is None:
        return None
    if devices != "auto":
        return list(devices)
    count = _cuda_device_count() or 0
    if count:
        return [f"cuda:{index}" for index in range(count)]
    return [PARKING_DEVICE] * max(1, n_workers)


@dataclass(frozen=True)
class Placement:
    """What a task needs to know of its slot: the parameter and the device."""

    param: str
    device: str


class DeviceSlots:
    """The device slots of one search; a running task holds one.

    Parameters
    ----------
    devices : list of str
        One slot per entry (a device listed twice has two).
    param : str
        The estimator's device parameter.
    n_workers : int
        The executor's workers: at most ``min(n_workers, len(devices))`` tasks
        hold a slot at once.
    """

    def __init__(self, devices: list[str], param: str, n_workers: int) -> None:
        self.devices = list(devices)
        self.param = param
        self.capacity = max(1, min(n_workers, len(self.devices)))
        self._free = list(range(len(self.devices)))

    @property
    def has_free(self) -> bool:
        """Whether a task can start now."""
        return bool(self._free) and len(self.devices) - len(self._free) < self.capacity

    def acquire(self) -> int | None:
        """A free slot (on the device running fewest tasks), or None."""
        if not self.has_free:
            return None
        busy = Counter(self.devices[slot] for slot in range(len(self.devices))
                       if slot not in self._free)
        slot = min(self._free, key=lambda s: (busy[self.devices[s]], s))
        self._free.remove(slot)
        return slot

    def release(self, slot: int) -> None:
        """Give back a slot taken by :meth:`acquire`."""
        self._free.append(slot)

    def placement(self, slot: int) -> Placement:
        return Placement(self.param, self.devices[slot])


# -- in the worker ---------------------------------------------------------------

def move_to_device(estimator: Any, param: str, device: str) -> None:
    """Set ``estimator``'s device parameter ``param`` to ``device``, in place.

    A fitted skorch net owning that parameter (the estimator, or the Pipeline
    step named by ``param``) is moved there first (:func:`move_net`); any other
    estimator only gets the parameter.
    """
    owner_name = param[: -len("device")].removesuffix("__")
    owner = estimator.get_params(deep=True)[owner_name] if owner_name else estimator
    if is_skorch_net(owner) and getattr(owner, "initialized_", False):
        move_net(owner, device)
    estimator.set_params(**{param: device})


def move_net(net: Any, device: str) -> None:
    """Move an initialized skorch net's torch state to ``device``, in place.

    The state is what skorch moves when it loads a net on another device
    (``NeuralNet.__setstate__``): the attributes in ``cuda_dependent_attributes_``
    (``module_``, ``criterion_``, ``optimizer_`` and custom ones). Modules move
    with ``Module.to``; an optimizer keeps its parameters (rebound where ``to``
    made new ones) and its state is cast to them as ``Optimizer.load_state_dict``
    does (moments on the parameters' device; ``step`` where torch keeps it).
    Sets ``net.device``.
    """
    import torch

    attributes = [name for name in net.cuda_dependent_attributes_ if hasattr(net, name)]
    replaced: dict[int, Any] = {}  # id(old parameter) -> new parameter
    for name in attributes:
        module = getattr(net, name)
        if isinstance(module, torch.nn.Module):
            before = list(module.parameters())
            setattr(net, name, module.to(device))
            replaced.update({id(old): new for old, new in zip(before, module.parameters())
                             if old is not new})
    for name in attributes:
        optimizer = getattr(net, name)
        if isinstance(optimizer, torch.optim.Optimizer):
            _rebind(optimizer, replaced)
            optimizer.load_state_dict(optimizer.state_dict())
    net.set_params(device=device)


def _rebind(optimizer: Any, replaced: dict[int, Any]) -> None:
    """Point ``optimizer`` at the new parameters (``Module.to`` keeps the same
    objects between CPU and CUDA, not towards every device type)."""
    if not replaced:
        return
    for group in optimizer.param_groups:
        group["params"] = [replaced.get(id(p), p) for p in group["params"]]
    state = type(optimizer.state)(dict)
    state.update({replaced.get(id(p), p): value for p, value in optimizer.state.items()})
    optimizer.state = state


def run_on_device(placement: Placement, fn: Callable, model: Any, *args: Any,
                  **kwargs: Any) -> Any:
    """Run the task ``fn(model, *args, **kwargs)`` on ``placement.device``.

    ``model`` is the task's estimator, or the :class:`~skhpo._transfer.ModelParcel`
    of an incremental task, whose output is ``(result, parcel)``: the model sent
    back in that parcel is moved to the CPU here, in the worker. The task's own
    reference to its input model is dropped, so that a model not sent back
    frees its device memory at once.
    """
    parcel = model if isinstance(model, ModelParcel) else None
    estimator = model if parcel is None else parcel.model
    if estimator is not None:
        move_to_device(estimator, placement.param, placement.device)
    del estimator
    try:
        output = fn(model, *args, **kwargs)
    except Exception as exc:  # error_score="raise"
        if _is_out_of_memory(exc):
            if hasattr(exc, "add_note"):  # Python >= 3.11
                exc.add_note(_out_of_memory_hint(placement))
            _empty_cuda_cache()
        raise
    finally:
        if parcel is not None:
            parcel.model = None
    result, returned = output if parcel is not None else (output, None)
    fit_error = result.get("fit_error")
    if fit_error is not None and _is_out_of_memory(fit_error):
        result["fit_error"] = f"{fit_error}\n{_out_of_memory_hint(placement)}"
        _empty_cuda_cache()
    if returned is not None and returned.model is not None:
        move_to_device(returned.model, placement.param, PARKING_DEVICE)
    return output


def _is_out_of_memory(error: BaseException | str) -> bool:
    """Whether an exception, or a fit error's traceback text, is torch's OOM."""
    if isinstance(error, str):
        return "OutOfMemoryError" in error
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(error, torch.cuda.OutOfMemoryError)


def _out_of_memory_hint(placement: Placement) -> str:
    return (f"The fit ran out of memory on {placement.param}={placement.device!r}; the "
            "other tasks went on. List that device fewer times in devices (fewer "
            "tasks at once on it) or lower the memory a fit needs (batch_size).")


def _empty_cuda_cache() -> None:
    """Return the memory torch cached for this process to the device."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
