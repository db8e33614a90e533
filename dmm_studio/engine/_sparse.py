"""The regular part of W as a sparse matrix that Self can edit cheaply.

Rows are input ports ``(f, n, i)``, columns output ports ``(g, m, o)``, both
interned to indices by the engine. The entries live in COO arrays (the
truth, with a position per entry); the matrix product uses a CSR built from
them once, the *main* block, plus the entries added since (the *patch*),
applied as a few ``index_add`` terms. When Self changes a weight that exists,
only its value is written (into the COO arrays and, through a kept
permutation, into the CSR values); a new entry goes to the patch (reusing
the positions of patch entries that were removed); a removed one is set to
0 and forgotten. The main block is rebuilt (one sort, in torch) only when
the patch or the dead entries grow past a fraction of the whole.

Small matrices (rows x cols up to ``_DENSE_MAX``) are also kept dense: a
sparse product has a fixed cost of its own that a tiny dense one has not.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch


def quiet_csr(make: Any) -> torch.Tensor:
    """``make()`` without torch's one-time "CSR support is beta" warning (the
    engine relies only on CSR @ dense, stable since torch 2.0)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
        return make()


_GROW = 1 << 12
_DENSE_MAX = 1 << 16  # rows x cols up to which A is also kept dense
_SMALL_INT = 64  # entries in the rows holding int weights up to which int_rows_small serves


class PatchedCSR:
    """``A`` (rows x cols) = main CSR + patch CSR, with in-place value edits."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.n_rows = 0
        self.n_cols = 0
        self._pos: dict[int, int] = {}  # (row << 32 | col) -> position in the COO arrays
        self._rows = torch.zeros(_GROW, dtype=torch.long)
        self._cols = torch.zeros(_GROW, dtype=torch.long)
        self._vals = torch.zeros(_GROW, dtype=torch.float64)
        self._isfloat = torch.zeros(_GROW, dtype=torch.bool)
        self._n = 0  # positions used
        self._n_main = 0  # positions [0, n_main) are in the main CSR
        self.n_float = 0  # live entries whose weight is a Python float
        self._dead = 0
        self._main: torch.Tensor | None = None
        self._main_vals: torch.Tensor | None = None
        self._main_slot: torch.Tensor | None = None  # COO position -> CSR value index
        self._patch: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._patch_dirty = False
        self._columns: dict[int, dict[int, int]] = {}  # tracked columns: col -> {row: position}
        self._int_count: dict[int, int] = {}  # row -> how many of its weights are ints
        self._int_cache: tuple[int, Any] | None = None
        self._int_small: tuple[int, Any] | None = None
        self.int_version = 0
        self._free: list[int] = []  # dead positions of the patch
        self.version = 0  # bumps on every change of the sparsity pattern
        self.stamp = 0  # bumps on every change at all (values too)
        self._dense: tuple[tuple[int, int, int], torch.Tensor] | None = None

    # ---------------------------------------------------------------- building
    def load(self, rows: list[int], cols: list[int], vals: list[float], n_rows: int, n_cols: int) -> None:
        """Replace every entry (no duplicates in rows/cols pairs)."""
        n = len(rows)
        cap = max(_GROW, n + n // 4)
        self._rows = torch.zeros(cap, dtype=torch.long)
        self._cols = torch.zeros(cap, dtype=torch.long)
        self._vals = torch.zeros(cap, dtype=torch.float64)
        self._isfloat = torch.zeros(cap, dtype=torch.bool)
        if n:
            self._rows[:n] = torch.tensor(rows, dtype=torch.long)
            self._cols[:n] = torch.tensor(cols, dtype=torch.long)
            self._vals[:n] = torch.tensor(vals, dtype=torch.float64)
            self._isfloat[:n] = torch.tensor([type(v) is not int for v in vals], dtype=torch.bool)
        self.n_float = int(self._isfloat[:n].sum())
        self._int_count = {}
        for r, v in zip(rows, vals, strict=True):
            if type(v) is int:
                self._int_count[r] = self._int_count.get(r, 0) + 1
        self.int_version += 1
        self._pos = {(r << 32) | c: p for p, (r, c) in enumerate(zip(rows, cols, strict=True))}
        self._columns = {}
        self._n = n
        self._dead = 0
        self.n_rows, self.n_cols = n_rows, n_cols
        self.stamp += 1
        self._build_main()

    def _build_main(self) -> None:
        """Compact the live entries and build the main CSR from them (one sort)."""
        n = self._n
        live = self._vals[:n] != 0
        if self._dead:
            keep = torch.nonzero(live).flatten()
            for name in ("_rows", "_cols", "_vals", "_isfloat"):
                arr = getattr(self, name)
                packed = arr[keep]
                arr[: packed.shape[0]] = packed
            n = int(keep.shape[0])
            row_list, col_list = self._rows[:n].tolist(), self._cols[:n].tolist()
            self._pos = {(r << 32) | c: p for p, (r, c) in enumerate(zip(row_list, col_list, strict=True))}
            self._columns = {}
            self._n = n
            self._dead = 0
        rows, cols = self._rows[:n], self._cols[:n]
        order = torch.argsort(rows * max(self.n_cols, 1) + cols)
        slot = torch.empty(n, dtype=torch.long)
        slot[order] = torch.arange(n)
        counts = torch.bincount(rows, minlength=self.n_rows)
        crow = torch.zeros(self.n_rows + 1, dtype=torch.long)
        crow[1:] = torch.cumsum(counts, 0)
        self._main_crow = crow.to(self.device)
        self._main_col = cols[order].to(self.device)
        self._main_vals = self._vals[:n][order].to(self.device)
        self._main_slot = slot
        self._main_shape = (self.n_rows, self.n_cols)
        self._main = None
        self._n_main = n
        self._patch = None
        self._patch_dirty = False
        self._free = []
        self.version += 1

    # ---------------------------------------------------------------- editing
    def resize(self, n_rows: int, n_cols: int) -> None:
        if n_rows != self.n_rows or n_cols != self.n_cols:
            self.n_rows, self.n_cols = n_rows, n_cols
            self._main = None
            self._patch_dirty = True

    def get(self, r: int, c: int) -> float:
        p = self._pos.get((r << 32) | c)
        return 0.0 if p is None else float(self._vals[p])

    def set(self, r: int, c: int, w: float) -> None:
        """Set one weight (0 removes the entry)."""
        self.set_many([(r, c, w)])

    def set_many(self, entries: list[tuple[int, int, Any]]) -> None:
        """Set weights (0 removes an entry); ``(row, col)`` pairs distinct.
        The bookkeeping is per entry in Python, the writes one tensor op each."""
        if not entries:
            return
        if not self._free and self._n + len(entries) > self._rows.shape[0]:
            self._grow()
        found = [self._pos.get((r << 32) | c) for r, c, _ in entries]
        known = [p for p in found if p is not None]
        old_float = dict(zip(known, self._isfloat[known].tolist(), strict=True)) if known else {}
        freed: list[int] = []
        pos: list[int] = []
        vals: list[float] = []
        flags: list[bool] = []
        new_pos: list[int] = []
        new_rc: list[tuple[int, int]] = []
        all_rc: list[tuple[int, int]] = []
        for (r, c, w), p in zip(entries, found, strict=True):
            was_float = old_float.get(p, False) if p is not None else False
            self._track_int_row(r, p is not None and not was_float, p is not None, w)
            if p is None:
                if w == 0:
                    continue
                if self._free:
                    p = self._free.pop()
                    self._dead -= 1
                else:
                    if self._n == self._rows.shape[0]:
                        self._grow()
                    p = self._n
                    self._n += 1
                self._pos[(r << 32) | c] = p
                col = self._columns.get(c)
                if col is not None:
                    col[r] = p
                new_pos.append(p)
                new_rc.append((r, c))
                self.version += 1
            else:
                self.n_float -= was_float
                if w == 0:
                    del self._pos[(r << 32) | c]
                    self._dead += 1
                    if p >= self._n_main:
                        freed.append(p)  # reused by a later new entry (not in this batch)
                    col = self._columns.get(c)
                    if col is not None:
                        del col[r]
                    self.version += 1
            isfloat = type(w) is not int and w != 0
            self.n_float += isfloat
            pos.append(p)
            all_rc.append((r, c))
            vals.append(float(w))
            flags.append(isfloat)
        self._free.extend(freed)
        self.stamp += 1
        if not pos:
            return
        # the writes: few tensor ops (each costs microseconds, whatever its size)
        at = torch.tensor(pos, dtype=torch.long)
        v = torch.tensor(vals, dtype=torch.float64)
        if new_pos:
            rc = torch.tensor(new_rc, dtype=torch.long)
            at_new = at if len(new_pos) == len(pos) else torch.tensor(new_pos, dtype=torch.long)
            self._rows[at_new] = rc[:, 0]
            self._cols[at_new] = rc[:, 1]
        self._vals[at] = v
        self._isfloat[at] = torch.tensor(flags, dtype=torch.bool)
        n_main = self._n_main
        in_main = [k for k, p in enumerate(pos) if p < n_main]
        if in_main:
            assert self._main_vals is not None and self._main_slot is not None
            if len(in_main) == len(pos):
                slots, vm = self._main_slot[at], v
            else:
                sel = torch.tensor(in_main, dtype=torch.long)
                slots, vm = self._main_slot[at[sel]], v[sel]
            self._main_vals[slots.to(self.device)] = vm.to(self.device)
        if len(in_main) < len(pos):
            self._patch_dirty = True
        dense = self._dense
        if dense is not None and dense[0] == (self.stamp - 1, self.n_rows, self.n_cols):
            # the dense copy was current: write the same weights into it
            rc_all = torch.tensor(all_rc, dtype=torch.long, device=self.device)
            dense[1][rc_all[:, 0], rc_all[:, 1]] = v.to(self.device)
            self._dense = ((self.stamp, self.n_rows, self.n_cols), dense[1])

    def _track_int_row(self, r: int, was_int: bool, existed: bool, w: Any) -> None:
        """Keep the count of int weights per row; bump ``int_version`` when the
        entries of a row that holds ints change (see ``int_rows``)."""
        is_int = w != 0 and type(w) is int
        had = r in self._int_count
        if was_int != is_int:
            k = self._int_count.get(r, 0) + (1 if is_int else -1)
            if k:
                self._int_count[r] = k
            else:
                del self._int_count[r]
        if (had or r in self._int_count) and (was_int != is_int or existed != (w != 0)):
            self.int_version += 1

    def int_rows(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """The rows that hold an int weight, and every entry of those rows:
        (rows, entry's row as an index into rows, entry's column, entry is a
        float); None when no row holds an int. Cached until such a row changes."""
        if not self._int_count:
            return None
        if self._int_cache is None or self._int_cache[0] != self.int_version:
            rows, cols, _, isfloat = self.coo()
            int_rows = torch.tensor(sorted(self._int_count), dtype=torch.long)
            sel = torch.isin(rows, int_rows)
            local = torch.searchsorted(int_rows, rows[sel])
            parts = (int_rows, local, cols[sel], isfloat[sel])
            self._int_cache = (self.int_version, tuple(t.to(self.device) for t in parts))
        return self._int_cache[1]  # type: ignore[return-value]

    def int_rows_small(self) -> tuple[list[int], list[int], list[int], list[bool]] | None:
        """``int_rows`` as Python lists, for small matrices (None: no int row,
        or more than ``_SMALL_INT`` entries in the int rows). Built from the
        entry index without tensor ops; cached until such a row changes."""
        if not self._int_count or len(self._pos) > 4 * _SMALL_INT:
            return None
        cache = self._int_small
        if cache is None or cache[0] != self.int_version:
            where = {r: k for k, r in enumerate(sorted(self._int_count))}
            local: list[int] = []
            cols: list[int] = []
            at: list[int] = []
            for key, p in self._pos.items():
                k = where.get(key >> 32)
                if k is not None:
                    local.append(k)
                    cols.append(key & 0xFFFFFFFF)
                    at.append(p)
            if len(at) > _SMALL_INT:
                self._int_small = cache = (self.int_version, None)
            else:
                isfloat = self._isfloat[at].tolist() if at else []
                self._int_small = cache = (self.int_version, (list(where), local, cols, isfloat))
        return cache[1]  # type: ignore[no-any-return]

    def _grow(self) -> None:
        cap = self._rows.shape[0] * 2
        for name in ("_rows", "_cols", "_vals", "_isfloat"):
            arr = getattr(self, name)
            new = torch.zeros(cap, dtype=arr.dtype)
            new[: arr.shape[0]] = arr
            setattr(self, name, new)

    # ---------------------------------------------------------------- reading
    @property
    def nnz(self) -> int:
        return len(self._pos)

    def coo(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The live entries: rows, cols, values, is-float flags (on the CPU)."""
        n = self._n
        live = self._vals[:n] != 0
        if self._dead:
            return self._rows[:n][live], self._cols[:n][live], self._vals[:n][live], self._isfloat[:n][live]
        return self._rows[:n], self._cols[:n], self._vals[:n], self._isfloat[:n]

    def position(self, r: int, c: int) -> int:
        return self._pos[(r << 32) | c]

    def column(self, c: int) -> list[tuple[int, float, bool]]:
        """The entries of column ``c``: (row, weight, weight is a float). The
        first call for a column scans A once; the column is then kept up to
        date by ``set`` (the engine asks for the few columns whose values have
        children: word counts, matrix fragments)."""
        col = self._columns.get(c)
        if col is None:
            n = self._n
            hit = torch.nonzero((self._cols[:n] == c) & (self._vals[:n] != 0)).flatten().tolist()
            rows = self._rows[:n]
            col = {int(rows[p]): p for p in hit}
            self._columns[c] = col
        out = []
        for r, p in col.items():
            out.append((r, float(self._vals[p]), bool(self._isfloat[p])))
        return out

    def _csr(self, crow: torch.Tensor, col: torch.Tensor, vals: torch.Tensor) -> torch.Tensor:
        shape = (self.n_rows, self.n_cols)
        return quiet_csr(lambda: torch.sparse_csr_tensor(crow, col, vals, shape, check_invariants=False))

    def matrices(self) -> torch.Tensor:
        """The main CSR block, rebuilt when the patch or the dead entries have
        grown; the patch (entries since) is kept as COO arrays in ``_patch``."""
        if self._n - self._n_main > max(1024, self._n_main // 8) or self._dead > max(1024, self._n_main // 4):
            self._build_main()
        if self._main is None or self._main.shape != (self.n_rows, self.n_cols):
            crow = self._main_crow
            if crow.shape[0] < self.n_rows + 1:
                pad = crow[-1:].expand(self.n_rows + 1 - crow.shape[0])
                crow = torch.cat([crow, pad])
                self._main_crow = crow
            assert self._main_vals is not None
            self._main = self._csr(crow, self._main_col, self._main_vals)
        if self._patch_dirty:
            lo, hi = self._n_main, self._n
            if hi > lo:
                rows, cols, vals = self._rows[lo:hi], self._cols[lo:hi], self._vals[lo:hi]
                self._patch = (rows.to(self.device), cols.to(self.device), vals.to(self.device))
            else:
                self._patch = None
            self._patch_dirty = False
        return self._main

    def matvec(self, y: torch.Tensor) -> torch.Tensor:
        """``A @ y`` (y: float64 [n_cols]). Small matrices go dense: a sparse
        product costs ~0.4 ms of dispatch however few its entries."""
        if self.n_rows * self.n_cols <= _DENSE_MAX:
            if self._dense is None or self._dense[0] != (self.stamp, self.n_rows, self.n_cols):
                rows, cols, vals, _ = self.coo()
                d = torch.zeros((self.n_rows, self.n_cols), dtype=torch.float64)
                d[rows, cols] = vals
                self._dense = ((self.stamp, self.n_rows, self.n_cols), d.to(self.device))
            return self._dense[1] @ y
        x = self.matrices() @ y
        if self._patch is not None:  # the entries added since the main block: a few terms
            rows, cols, vals = self._patch
            x.index_add_(0, rows, vals * y[cols])
        return x
