"""The safetensors format, read and written here because Debian packages no library for it: an
8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
then the raw little-endian data (https://github.com/huggingface/safetensors, "Format")."""

import json
import struct

import torch

_DTYPES = {
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "F64": torch.float64,
    "I64": torch.int64,
    "I32": torch.int32,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


class SafetensorsError(ValueError):
    """A file that is not safetensors, or whose header disagrees with its data."""


def write(tensors, metadata=None):
    """The bytes of a safetensors file holding `tensors` (name -> tensor), in the given order."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        if t.dtype not in _NAMES:
            raise SafetensorsError(f"{name}: dtype {t.dtype} is not supported")
        data = t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {
            "dtype": _NAMES[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"".join(blobs)


def read(data, what="safetensors file"):
    """Every tensor of a safetensors file's bytes: (name -> tensor, metadata)."""
    if len(data) < 8:
        raise SafetensorsError(f"{what} is not a safetensors file ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n < 2 or n > len(data) - 8:
        raise SafetensorsError(f"{what}: header length {n} does not fit the file")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except ValueError as e:
        raise SafetensorsError(f"{what}: header is not JSON ({e})") from None
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n :]
    out = {}
    for name, h in header.items():
        dtype = _DTYPES.get(h.get("dtype"))
        if dtype is None:
            raise SafetensorsError(f"{what}: {name} has unsupported dtype {h.get('dtype')}")
        start, end = h["data_offsets"]
        shape = [int(d) for d in h["shape"]]
        count = 1
        for d in shape:
            count *= d
        size = torch.tensor([], dtype=dtype).element_size()
        if end - start != count * size or end > len(body) or start < 0:
            raise SafetensorsError(
                f"{what}: {name} has {end - start} bytes at [{start}, {end}) for shape {shape}"
                f" ({count * size} needed, {len(body)} in the file)"
            )
        raw = bytearray(body[start:end])
        t = torch.frombuffer(raw, dtype=torch.uint8).view(dtype) if count else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(shape).clone()
    return out, metadata


def save(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(write(tensors, metadata))


def load(path):
    with open(path, "rb") as f:
        return read(f.read(), str(path))
