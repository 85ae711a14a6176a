"""The SignatureDefs of a .tflite file, read from its bytes (Model.signature_defs, field 7 of
TensorFlow Lite's schema: signature_key, inputs and outputs as {name: tensor index},
subgraph_index), checking every offset so that a malformed file gives ValueError."""
import struct

# Field numbers in TensorFlow Lite's schema.
_MODEL_SIGNATURE_DEFS = 7
_SIGNATURE_INPUTS, _SIGNATURE_OUTPUTS, _SIGNATURE_KEY, _SIGNATURE_SUBGRAPH = 0, 1, 2, 4
_TENSOR_MAP_NAME, _TENSOR_MAP_INDEX = 0, 1


class _Reader:
    """Reads flatbuffer tables of one buffer, bounds-checked."""

    def __init__(self, data):
        self._data = memoryview(data)

    def _unpack(self, fmt, position):
        if position < 0:
            raise struct.error("negative offset")
        return struct.unpack_from(fmt, self._data, position)[0]

    def root(self):
        return self._unpack("<I", 0)

    def _field_position(self, table, field):
        vtable = table - self._unpack("<i", table)
        vtable_size = self._unpack("<H", vtable)
        entry = 4 + 2 * field
        if entry + 2 > vtable_size:
            return None
        offset = self._unpack("<H", vtable + entry)
        return table + offset if offset else None

    def _indirect(self, position):
        return position + self._unpack("<I", position)

    def uint(self, table, field, default=0):
        position = self._field_position(table, field)
        return default if position is None else self._unpack("<I", position)

    def string(self, table, field):
        position = self._field_position(table, field)
        if position is None:
            return ""
        start = self._indirect(position)
        length = self._unpack("<I", start)
        if start + 4 + length > len(self._data):
            raise struct.error("string past the end of the file")
        return bytes(self._data[start + 4:start + 4 + length]).decode("utf-8")

    def tables(self, table, field):
        """The tables of a vector-of-tables field ([] when absent)."""
        position = self._field_position(table, field)
        if position is None:
            return []
        start = self._indirect(position)
        count = self._unpack("<I", start)
        if start + 4 + 4 * count > len(self._data):
            raise struct.error("vector past the end of the file")
        return [self._indirect(start + 4 + 4 * i) for i in range(count)]


def read_signatures(data):
    """{signature_key: {'inputs': {name: tensor index}, 'outputs': {...}, 'subgraph_index': n}}
    of the .tflite file `data`; {} when it has none."""
    reader = _Reader(data)
    try:
        signatures = {}
        for signature in reader.tables(reader.root(), _MODEL_SIGNATURE_DEFS):
            def tensor_map(field):
                return {reader.string(m, _TENSOR_MAP_NAME): reader.uint(m, _TENSOR_MAP_INDEX)
                        for m in reader.tables(signature, field)}
            signatures[reader.string(signature, _SIGNATURE_KEY)] = {
                "inputs": tensor_map(_SIGNATURE_INPUTS),
                "outputs": tensor_map(_SIGNATURE_OUTPUTS),
                "subgraph_index": reader.uint(signature, _SIGNATURE_SUBGRAPH),
            }
        return signatures
    except (struct.error, UnicodeDecodeError) as e:
        raise ValueError(f"the model's signature_defs are malformed ({e}): the file is not a "
                         "valid TensorFlow Lite model") from None
