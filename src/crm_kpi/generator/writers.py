"""TableWriter: streams the chunks of one table to `<table>.csv` (RFC 4180 quoting only where needed)
or `<table>.parquet` (zstd), every column as text in the contract's column order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crm_kpi.contract import TABLES_BY_NAME
from crm_kpi.generator.constants import Columns


def _csv_field(values: pa.Array) -> pa.Array:
    """RFC 4180: quote only values holding a comma, quote or line break (doubling inner quotes)."""
    needs = pc.match_substring_regex(values, '[",\r\n]')
    if not pc.any(needs).as_py():
        return values
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, values)


class TableWriter:
    """Streams chunks of one table to `<table>.csv` or `<table>.parquet` (every column as text)."""

    def __init__(self, out_dir: Path, table: str, fmt: str) -> None:
        self.columns = TABLES_BY_NAME[table].column_names
        self.rows = 0
        self.fmt = fmt
        self.path = out_dir / f"{table}.{fmt}"
        self._parquet: pq.ParquetWriter | None = None
        if fmt == "parquet":
            schema = pa.schema([(name, pa.string()) for name in self.columns])
            self._parquet = pq.ParquetWriter(self.path, schema, compression="zstd")
        else:
            self._csv = self.path.open("wb")
            self._csv.write((",".join(self.columns) + "\n").encode())

    def write(self, data: Columns) -> None:
        if set(data) != set(self.columns):
            raise ValueError(f"{self.path.name}: columns {sorted(data)} differ from the contract")
        arrays = [data[name] for name in self.columns]
        length = len(arrays[0])
        if any(len(array) != length for array in arrays):
            raise ValueError(f"{self.path.name}: columns of different lengths")
        if length == 0:
            return
        self.rows += length
        if self._parquet is not None:
            self._parquet.write_table(pa.table(arrays, names=self.columns))
            return
        fields = [_csv_field(array) for array in arrays]
        joined = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
        lines = pc.binary_join_element_wise(joined, "", "\n").cast(pa.large_string())
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + length + 1]
        self._csv.write(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])

    def close(self) -> int:
        if self._parquet is not None:
            self._parquet.close()
        else:
            self._csv.close()
        return self.rows
