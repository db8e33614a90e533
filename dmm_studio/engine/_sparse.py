"""The regular part of W as a sparse float64 matrix that Self edits cheaply.

Rows are input ports, columns output ports (interned by the engine). The
entries are a *main* CSR, built once by one sort of the entries' keys
(``row << 32 | col``), plus a *patch*: the entries added since, a small dict
applied as one ``index_add`` term. An edit of an entry that exists writes its
value in place (found by ``searchsorted`` on the main keys); a removed entry
of the main block becomes an explicit 0 until the next rebuild; a new one
goes to the patch. The main block is rebuilt when the patch or the dead
entries grow past a fraction of the whole: every edit costs O(k) amortised.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch


def quiet_csr(make: Any) -> torch.Tensor:
    """``make()`` without torch's one-time "CSR support is beta" warning (the
    engine relies only on CSR @ dense, stable since torch 2.0)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
        return make()


def keys_of(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return (rows.astype(np.int64) << 32) | cols.astype(np.int64)


class PatchedCSR:
    """``A`` (``n_rows`` x ``n_cols``, float64) = main CSR + patch."""

    def __init__(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        n_rows: int,
        n_cols: int,
        device: torch.device,
    ) -> None:
        """The entries: distinct ``(row, col)`` pairs, no zeros."""
        self.device = device
        self.version = 0  # bumps when the sparsity pattern changes
        self.stamp = 0  # bumps on every change
        self._watch: dict[int, dict[int, float]] = {}  # columns kept indexed: col -> row -> weight
        self._build(keys_of(rows, cols), vals, n_rows, n_cols)

    def _build(self, keys: np.ndarray, vals: np.ndarray, n_rows: int, n_cols: int) -> None:
        self.n_rows, self.n_cols = n_rows, n_cols
        order = np.argsort(keys, kind="stable")
        self._keys, self._vals = keys[order], np.ascontiguousarray(vals[order], dtype=np.float64)
        self._live = int(np.count_nonzero(self._vals))
        self._patch: dict[int, float] = {}
        self._patch_arrays: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._t_vals = torch.from_numpy(self._vals).to(self.device)
        self._t_cols = torch.from_numpy(self._keys & 0xFFFFFFFF).to(self.device)
        counts = np.bincount(self._keys >> 32, minlength=n_rows)
        self._crow = torch.from_numpy(np.concatenate([[0], np.cumsum(counts)])).to(self.device)
        self._main: torch.Tensor | None = None
        self.version += 1
        self.stamp += 1

    @property
    def nnz(self) -> int:
        return self._live + len(self._patch)

    def resize(self, n_rows: int, n_cols: int) -> None:
        if (n_rows, n_cols) != (self.n_rows, self.n_cols):
            if n_rows > self.n_rows:
                self._crow = torch.cat([self._crow, self._crow[-1:].expand(n_rows - self.n_rows)])
            self.n_rows, self.n_cols = n_rows, n_cols
            self._main = None
            self._patch_arrays = None

    def add(self, keys: np.ndarray, dw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add ``dw`` to the weights at ``keys`` (distinct): ``(old, new)``, 0
        for no entry. O(k), key by key: an entry of the main block is written
        in place (at 0 it stays, dead, until the next rebuild), any other goes
        to the patch (and leaves it at 0)."""
        main, vals, patch, watch = self._keys, self._vals, self._patch, self._watch
        old, new, written, pattern = [], [], [], False
        at = np.searchsorted(main, keys).tolist()
        for key, d, p in zip(keys.tolist(), dw.tolist(), at, strict=True):
            if p < len(main) and main[p] == key:
                o = float(vals[p])
                vals[p] = w = o + d
                written.append(p)
                self._live += (w != 0) - (o != 0)
            else:
                o = patch.get(key, 0.0)
                w = o + d
                if w == 0:
                    patch.pop(key, None)
                else:
                    patch[key] = w
                self._patch_arrays = None
            pattern = pattern or (o == 0) != (w == 0)
            old.append(o)
            new.append(w)
            entries = watch.get(key & 0xFFFFFFFF) if watch else None
            if entries is not None and w == 0:
                entries.pop(key >> 32, None)
            elif entries is not None:
                entries[key >> 32] = w
        self.version += pattern
        self.stamp += 1
        if written and self.device.type != "cpu":  # on the CPU the CSR's values are ``vals`` itself
            at = torch.tensor(written, device=self.device)
            self._t_vals[at] = torch.from_numpy(vals[written]).to(self.device)
        dead = len(main) - self._live
        if len(patch) > max(256, self.nnz // 16) or dead > max(1024, len(main) // 4):
            rows, cols, live = self.coo()
            self._build(keys_of(rows, cols), live, self.n_rows, self.n_cols)
        return np.array(old), np.array(new)

    def coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The live entries: rows, cols, values (numpy)."""
        live = self._vals != 0
        keys = self._keys[live]
        vals = self._vals[live]
        if self._patch:
            keys = np.concatenate([keys, np.fromiter(self._patch, np.int64, len(self._patch))])
            vals = np.concatenate([vals, np.fromiter(self._patch.values(), np.float64, len(self._patch))])
        return keys >> 32, keys & 0xFFFFFFFF, vals

    def entries_in(self, cols: list[int]) -> list[tuple[int, int, float]]:
        """The live entries ``(row, col, weight)`` of the columns ``cols``. The
        first call for a column scans A; the column is then kept indexed."""
        new = [c for c in cols if c not in self._watch]
        if new:
            self._watch.update((c, {}) for c in new)
            rows, cs, vals = self.coo()
            sel = np.isin(cs, new)
            for r, c, v in zip(rows[sel].tolist(), cs[sel].tolist(), vals[sel].tolist(), strict=True):
                self._watch[c][r] = v
        return [(r, c, w) for c in cols for r, w in self._watch[c].items()]

    def matvec(self, y: torch.Tensor) -> torch.Tensor:
        """``A @ y`` (y: float64 [n_cols]) -> float64 [n_rows]."""
        if self._main is None:
            shape = (self.n_rows, self.n_cols)
            self._main = quiet_csr(
                lambda: torch.sparse_csr_tensor(
                    self._crow, self._t_cols, self._t_vals, shape, check_invariants=False
                )
            )
        x = self._main @ y
        if self._patch:
            if self._patch_arrays is None:
                keys = np.fromiter(self._patch, np.int64, len(self._patch))
                vals = np.fromiter(self._patch.values(), np.float64, len(self._patch))
                self._patch_arrays = tuple(  # type: ignore[assignment]
                    torch.from_numpy(a).to(self.device) for a in (keys >> 32, keys & 0xFFFFFFFF, vals)
                )
            rows, cols, vals = self._patch_arrays  # type: ignore[misc]
            x.index_add_(0, rows, vals * y[cols])
        return x

    def block(self, cols: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The columns ``cols`` of A, rows compressed: ``(rows, B)``, B a CSR of
        ``dtype``; None for dtypes that sparse products do not take."""
        if dtype not in (torch.float32, torch.float64):
            return torch.zeros(0), None
        c_np = cols.cpu().numpy()
        rows, c, vals = self.coo()
        sel = np.isin(c, c_np)
        rows, c, vals = rows[sel], c[sel], vals[sel]
        order = np.argsort(c_np)  # the place of each column in ``cols``
        local = order[np.searchsorted(c_np[order], c)]
        out_rows, inv = np.unique(rows, return_inverse=True)
        coo = torch.sparse_coo_tensor(
            torch.from_numpy(np.stack([inv, local])),
            torch.from_numpy(vals).to(dtype),
            (len(out_rows), len(c_np)),
            check_invariants=False,
        ).coalesce()
        return torch.from_numpy(out_rows).to(self.device), quiet_csr(coo.to_sparse_csr).to(self.device)
