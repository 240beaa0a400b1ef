"""Fitted models sent to joblib workers and back, intact, on any backend.

Incremental searchers (Hyperband on ``partial_fit``, PBT) send a fitted model to a
worker, train it further there and get it back. Left to joblib, that breaks in
three ways:

* loky memory-maps every array over 1 MiB (``max_nbytes``) read-only, and ray's
  object store makes every array read-only, so the model's own ``coef_`` or
  ``coefs_`` cannot be updated in place: ``partial_fit`` fails with "output array
  is read-only", or a C extension writes through and the worker crashes;
* a worker pickles its result with the standard pickler, which cannot find a
  class defined in the user's script (``__main__``) by name;
* torch modules inside a skorch net are saved with ``torch.save`` (the standard
  pickler again) from the net's ``__getstate__``, even when the net itself is
  pickled by cloudpickle.

A :class:`ModelParcel` wraps the model. In the process that runs the search
(``n_jobs=1``, the threading backend) it is never pickled, so the very object
travels and nothing is copied. When it crosses a process boundary it pickles as
one ``bytes`` blob made by cloudpickle, so no array inside it is memory-mapped or
shared, and the blob also carries the classes of ``__main__`` that the model
uses; the receiving process makes them importable from its own ``__main__``
before it unpickles the model. Each parcel records how many bytes it moved.
"""

from __future__ import annotations

import io
import pickle
import sys
from typing import Any

import cloudpickle

__all__ = ["ModelParcel", "dumps_model", "loads_model"]


# Protocol 5 would pickle a read-only array in-band as ``bytes`` and give it back
# read-only; protocol 4 copies array data into arrays that own it, always writable.
_PROTOCOL = 4


class _MainClassRecorder(cloudpickle.Pickler):
    """A cloudpickle pickler that notes every ``__main__`` class it pickles."""

    def __init__(self, file) -> None:
        super().__init__(file, protocol=_PROTOCOL)
        self.main_classes: dict[str, type] = {}

    def reducer_override(self, obj):
        if isinstance(obj, type) and obj.__module__ == "__main__":
            self.main_classes[obj.__qualname__] = obj
        return super().reducer_override(obj)


def dumps_model(model: Any) -> bytes:
    """Pickle ``model`` for another process: ``(main classes, model bytes)``."""
    buffer = io.BytesIO()
    recorder = _MainClassRecorder(buffer)
    recorder.dump(model)
    # classes whose qualified name is not a plain attribute (defined in a
    # function) cannot be found by name anyway: they travel by value only
    classes = {name: cls for name, cls in recorder.main_classes.items() if "." not in name}
    return cloudpickle.dumps((classes, buffer.getvalue()), protocol=_PROTOCOL)


def loads_model(blob: bytes) -> Any:
    """Inverse of :func:`dumps_model`; registers the model's ``__main__`` classes first.

    Nested standard pickling (``torch.save`` in a skorch net's state) looks
    classes up as ``__main__.Name``. A class that already exists under that name
    is left alone; cloudpickle maps a class it sent back to the original object.
    """
    classes, model_bytes = pickle.loads(blob)
    main = sys.modules["__main__"]
    for name, cls in classes.items():
        if not hasattr(main, name):
            setattr(main, name, cls)
    return pickle.loads(model_bytes)


def _unpack(blob: bytes) -> ModelParcel:
    return ModelParcel(loads_model(blob), nbytes=len(blob), blob=blob)


class ModelParcel:
    """A model on its way to or from a worker.

    Parameters
    ----------
    model : object
        The model (any picklable-by-cloudpickle object, or None).
    nbytes : int, default=0
        Bytes this parcel moved between processes: set when it is pickled (in the
        sending process) and when it is unpickled (in the receiving one); 0 while
        it stays in one process.
    blob : bytes or None, default=None
        In the receiving process, the :func:`dumps_model` bytes the model arrived
        as (a checkpoint can write them as they are).
    """

    def __init__(self, model: Any, nbytes: int = 0, blob: bytes | None = None) -> None:
        self.model = model
        self.nbytes = nbytes
        self.blob = blob

    def __reduce__(self):
        if self.model is None:  # a failed or dropped model: nothing to move
            return ModelParcel, (None,)
        blob = dumps_model(self.model)
        self.nbytes = len(blob)
        return _unpack, (blob,)
