"""CPU inference for the ReNAS CNN that computes each receptive field once per distinct input
pattern (the same outputs as the plain forward pass up to float32 rounding).

Architecture tensors repeat themselves: in a NAS-Bench-201 tensor only the six edge positions
vary, each over five values, so over the 15,625 cells the first convolution sees at most 125
distinct 3×3 patches at 12 of the 16 positions, and all cells differ at only one. This module
evaluates the network of :class:`~nasopt.surrogates.renas._ReNASNet` (eval mode) on a batch by

1. giving every input position an integer id per distinct value vector (hashed, then checked
   for exact equality), and every set of positions the id of its joint pattern;
2. computing the first convolution (input standardisation and batch norm folded in) once per
   distinct 3×3 patch and multiplying it by the second convolution's taps ("tables");
3. summing, for each output position of the second convolution, one table row per group of
   neighbouring positions whose joint pattern has few distinct values (a gather), plus dense
   matrix products for the positions whose patches are (nearly) all distinct;
4. applying the first fully connected layer once per distinct receptive field where those are
   few, densely elsewhere.

The sums are taken in another order than the plain pass's, hence the rounding. A plan is used
only when it needs well under the plain pass's multiply-adds (:data:`MIN_GAIN`); otherwise
:func:`dedup_forward` returns ``None`` and the caller runs the network as usual, having spent
only the hashing.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

#: A position (or group of positions) is tabulated when its joint pattern takes at most
#: ``max(1, min(LIMIT_FRACTION · batch, LIMIT_ROWS))`` distinct values.
LIMIT_FRACTION = 0.25
LIMIT_ROWS = 4096
#: The plan must need fewer than ``1 / MIN_GAIN`` of the plain pass's multiply-adds.
MIN_GAIN = 2.0
#: Largest total size of the tables (float32 elements) a plan may hold.
MAX_TABLE_ELEMENTS = 1 << 26


def _compact(key: np.ndarray, bound: int) -> tuple[np.ndarray, int]:
    """Dense ids ``0..K-1`` (in increasing key order) of the non-negative integers ``key < bound``."""
    if bound <= max(8 * key.size, 1 << 16):
        present = np.zeros(bound, dtype=bool)
        present[key] = True
        remap = np.cumsum(present, dtype=np.int64) - 1
        return remap[key], int(remap[-1]) + 1
    uniq, inv = np.unique(key, return_inverse=True)
    return inv.reshape(-1).astype(np.int64, copy=False), len(uniq)


def representatives(ids: np.ndarray, k: int) -> np.ndarray:
    """One row index per id ``0..k-1`` (any row carrying it: all such rows are equal where it
    matters)."""
    rep = np.empty(k, dtype=np.int64)
    rep[ids] = np.arange(ids.size, dtype=np.int64)
    return rep


def _exact_ids(rows: np.ndarray) -> tuple[np.ndarray, int]:
    """Ids of the distinct rows of a 2-D array, by comparing their bytes."""
    rows = np.ascontiguousarray(rows)
    keys = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).reshape(-1)
    uniq, inv = np.unique(keys, return_inverse=True)
    return inv.reshape(-1).astype(np.int64, copy=False), len(uniq)


def _project(values: np.ndarray) -> np.ndarray:
    """``(N, P, C) -> (N, P)``: a fixed random projection of every value vector (equal vectors
    project equally: numpy's own loop sums every row in one order)."""
    proj = np.random.default_rng(0).standard_normal(values.shape[-1]).astype(values.dtype)
    return np.einsum("npc,c->np", values, proj)


class PatternIds:
    """Ids of the distinct joint values of the inputs over sets of positions.

    ``values`` is ``(N, P, C)`` (sample, position, channel). Each position's value vectors are
    grouped by a random projection, the grouping is checked element by element, and a position
    where two different vectors projected alike is grouped again by comparing bytes: the ids are
    exact.
    """

    def __init__(self, values: np.ndarray):
        n, npos, c = values.shape
        self.n = n
        hashes = _project(values)
        ids = np.empty((n, npos), dtype=np.int64)  # position ids offset into one table
        self.pos_ids: list[np.ndarray] = []
        self.pos_k: list[int] = []
        tables, offset = [], 0
        constant = hashes.min(axis=0) == hashes.max(axis=0)
        for s in range(npos):
            if constant[s]:  # the common case of padding: no sort needed
                k, inv = 1, np.zeros(n, dtype=np.int64)
            else:
                uniq, inv = np.unique(hashes[:, s], return_inverse=True)
                k, inv = len(uniq), inv.reshape(-1)
            self.pos_ids.append(inv)
            self.pos_k.append(k)
            ids[:, s] = inv + offset
            tables.append(values[representatives(inv, k), s])
            offset += k
        grouped = np.concatenate(tables)[ids]
        if not np.array_equal(grouped, values):
            for s in np.flatnonzero((grouped != values).any(axis=(0, 2))):
                self.pos_ids[s], self.pos_k[s] = _exact_ids(values[:, s])
        self._cache: dict[tuple[int, ...], tuple[np.ndarray, int]] = {
            (): (np.zeros(n, dtype=np.int64), 1)
        }

    def ids(self, positions: Iterable[int]) -> tuple[np.ndarray, int]:
        """``(ids, K)``: an id per sample of its joint value over ``positions``, K distinct."""
        key = tuple(sorted({s for s in positions if self.pos_k[s] > 1}))
        return self._ids(key)

    def _ids(self, key: tuple[int, ...]) -> tuple[np.ndarray, int]:
        if key not in self._cache:  # extend the longest known prefix (only asked sets are kept)
            start = max(i for i in range(len(key)) if key[:i] in self._cache)
            ids, k = self._cache[key[:start]]
            for s in key[start:]:
                if k == self.n:  # all samples already differ
                    break
                ids, k = _compact(ids * self.pos_k[s] + self.pos_ids[s], k * self.pos_k[s])
            self._cache[key] = (ids, k)
        return self._cache[key]


def _fold(conv: torch.nn.Conv2d, bn: torch.nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights and bias of ``bn(conv(x))`` in eval mode as one convolution."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return conv.weight * scale[:, None, None, None], bn.bias - bn.running_mean * scale


def _neighbours(h: int, w: int) -> list[list[int]]:
    """For each position (row-major), the positions at most one step away in each direction."""
    return [
        [a * w + b for a in range(max(i - 1, 0), min(i + 2, h)) for b in range(max(j - 1, 0), min(j + 2, w))]
        for i in range(h)
        for j in range(w)
    ]


class _Plan:
    """The tables of one batch, and :meth:`forward` for any run of its rows.

    Names: ``p`` an input position of the second convolution (an output of the first), ``q``
    an output position of the second; ``nb[p]`` the positions at most one step from ``p``
    (the first convolution's receptive field at ``p``, and the outputs ``p`` feeds in the
    second); ``id1[p]`` / ``k1[p]`` the pattern ids / count over ``nb[p]``, ``id2[q]`` /
    ``k2[q]`` over the union of ``nb[p]`` for ``p`` in ``nb[q]`` (the field of ``q``).
    """

    def __init__(self, net: torch.nn.Module, x: np.ndarray, mean: np.ndarray, std: np.ndarray):
        n, c, h, w = x.shape
        npos = h * w
        self.n, self.w = n, w
        self.w1, self.b1 = _fold(net.conv[0], net.conv[1])
        self.w2, self.b2 = _fold(net.conv[3], net.conv[4])
        c2, mid = self.w1.shape[0], self.w2.shape[0]
        fc1, self.fc2, self.head = net.fc[0], net.fc[2], net.head
        f1 = fc1.out_features
        self.fc_bias = fc1.bias
        self.wfc = fc1.weight.reshape(f1, mid, npos)  # flatten order of (mid, H, W)

        # 1. pattern ids, and which positions are tabulated
        values = np.ascontiguousarray(x.reshape(n, c, npos).transpose(0, 2, 1))
        self.values = torch.from_numpy(values)
        self.ids = PatternIds(values)
        nb = self.nb = _neighbours(h, w)
        self.id1, self.k1 = zip(*(self.ids.ids(nb[p]) for p in range(npos)))
        self.limit = max(1, min(int(LIMIT_FRACTION * n), LIMIT_ROWS))
        table_p = [self.k1[p] <= self.limit for p in range(npos)]
        table_size = mid * sum(self.k1[p] * len(nb[p]) for p in range(npos) if table_p[p])
        plain = n * npos * (9 * c * c2 + 9 * c2 * mid + mid * f1)

        def dense(k2: Sequence[int]) -> tuple[list[int], list[int]]:
            """For these field counts: the output positions whose first FC layer runs per row
            (``qd``), and the untabulated first-layer positions feeding them (``dp``)."""
            qd = [q for q in range(npos) if k2[q] > self.limit]
            return qd, [p for p in range(npos) if not table_p[p] and any(p in nb[q] for q in qd)]

        def worth(k2: Sequence[int]) -> bool:
            """Whether the plan for these field counts needs < 1/MIN_GAIN of the plain work."""
            qd, dp = dense(k2)
            conv1 = 9 * c * c2
            cost = (
                sum(self.k1[p] * (conv1 + len(nb[p]) * c2 * mid) for p in range(npos) if table_p[p])
                + n * (len(dp) * (conv1 + len(qd) * c2 * mid) + len(qd) * mid * f1)
                + sum(k2[q] * (len(nb[q]) * mid + mid * f1) for q in range(npos) if q not in qd)
            )
            return cost * MIN_GAIN < plain and table_size <= MAX_TABLE_ELEMENTS

        # a field has at least as many patterns as any of its parts: a cheap first verdict
        self.worth = worth([max(self.k1[p] for p in nb[q]) for q in range(npos)])
        if not self.worth:
            return
        id2, k2 = zip(*(self.ids.ids(set().union(*(nb[p] for p in nb[q]))) for q in range(npos)))
        self.worth = worth(k2)
        if not self.worth:
            return
        self.qd, self.dp = dense(k2)
        self.qt = [q for q in range(npos) if q not in self.qd]  # first FC layer per pattern

        # 2. first convolution (one matrix per position over its in-grid neighbours, applied to
        #    the raw inputs: standardisation folded in, out-of-grid neighbours stay zero) and
        #    its product with the second convolution's taps, once per distinct patch:
        #    g[p][slot] is (k1[p], mid), the contribution to output position nb[p][slot]
        scale = torch.from_numpy(1.0 / std.reshape(c, npos).T.astype(np.float32))  # (P, C)
        shift = torch.from_numpy(mean.reshape(c, npos).T.astype(np.float32)) * scale
        self.w1_at, self.b1_at = [], []
        for p in range(npos):
            wp = torch.cat([self._tap(self.w1, p, s) for s in nb[p]], 0)
            self.w1_at.append(wp * scale[nb[p]].reshape(-1, 1))
            self.b1_at.append(self.b1 - shift[nb[p]].reshape(-1) @ wp)
        self.nb_index = [torch.tensor(nb[p]) for p in range(npos)]
        self.g = {}
        for p in range(npos):
            if table_p[p]:
                h1 = self._h1(p, torch.from_numpy(representatives(self.id1[p], self.k1[p])))
                taps = torch.cat([self._tap(self.w2, q, p) for q in nb[p]], 1)
                self.g[p] = (h1 @ taps).split(mid, 1)  # strided views: rows are gathered whole

        # 3. the second convolution at the positions in qd: one table row per group of
        #    tabulated neighbours (gathered by one embedding bag per chunk) plus a matrix
        #    product with the first convolution at the untabulated ones (dp)
        self._stack_groups(table_p)
        self.w_dense = torch.zeros(len(self.dp) * c2, len(self.qd) * mid)
        for a, p in enumerate(self.dp):
            for b, q in enumerate(self.qd):
                if p in nb[q]:
                    self.w_dense[a * c2 : (a + 1) * c2, b * mid : (b + 1) * mid] = self._tap(self.w2, q, p)
        self.wfc_dense = self.wfc[:, :, self.qd].permute(2, 1, 0).reshape(len(self.qd) * mid, f1)
        self.b2_dense = self.b2.repeat(len(self.qd))

        # 4. the first fully connected layer's share of each position in qt, once per pattern
        fc_tables, fc_cols, offset = [], [], 0
        for q in self.qt:
            rep = torch.from_numpy(representatives(id2[q], k2[q]))
            z2 = self._tabulated(q, nb[q], rep) + self.b2  # qt's neighbours are all tabulated
            fc_tables.append(torch.relu(z2) @ self.wfc[:, :, q].T)
            fc_cols.append(id2[q] + offset)
            offset += k2[q]
        self.fc_table = torch.cat(fc_tables) if fc_tables else torch.zeros(0, f1)
        self.fc_index = np.stack(fc_cols, 1) if fc_cols else np.zeros((n, 0), dtype=np.int64)

    def _tap(self, conv_w: torch.Tensor, q: int, p: int) -> torch.Tensor:
        """``(in, out)`` weight with which input position ``p`` enters output position ``q``."""
        w = self.w
        return conv_w[:, :, p // w - q // w + 1, p % w - q % w + 1].T

    def _h1(self, p: int, cells: torch.Tensor | slice) -> torch.Tensor:
        """First convolution (+ folded batch norm, ReLU) at position ``p`` for ``cells``."""
        if isinstance(cells, slice):
            patch = self.values[cells].index_select(1, self.nb_index[p])
        else:
            patch = self.values[cells[:, None], self.nb_index[p][None, :]]
        return torch.relu(torch.addmm(self.b1_at[p], patch.reshape(patch.shape[0], -1), self.w1_at[p]))

    def _tabulated(
        self, q: int, positions: Iterable[int], cells: torch.Tensor, out: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Sum of the tabulated contributions of ``positions`` to output position ``q`` for ``cells``."""
        idx = cells.numpy()
        z = torch.zeros(len(cells), self.b2.shape[0]) if out is None else out.zero_()
        for p in positions:
            z += self.g[p][self.nb[p].index(q)].index_select(0, torch.from_numpy(self.id1[p][idx]))
        return z

    def _groups(self, members: list[int]) -> list[list[int]]:
        """Split ``members`` (in order) into runs whose joint field has at most ``limit`` patterns."""
        parts: list[list[int]] = []
        field: set[int] = set()
        for p in members:
            if parts and self.ids.ids(field | set(self.nb[p]))[1] <= self.limit:
                parts[-1].append(p)
                field |= set(self.nb[p])
            else:
                parts.append([p])
                field = set(self.nb[p])
        return parts

    def _stack_groups(self, table_p: list[bool]) -> None:
        """``bag_table`` (one row per group and pattern), ``bag_index`` (each row's table row
        per group, dense output positions in order) and ``bag_sizes`` (groups per position)."""
        bags = []
        for q in self.qd:
            members = sorted((p for p in self.nb[q] if table_p[p]), key=lambda p: (self.k1[p], p))
            bags += [(q, part) for part in self._groups(members)]
        self.bag_sizes = [sum(1 for qq, _ in bags if qq == q) for q in self.qd]
        fields = [self.ids.ids(set().union(*(self.nb[p] for p in part))) for _, part in bags]
        self.bag_table = torch.empty(sum(k for _, k in fields), self.b2.shape[0])
        cols, offset = [], 0
        for (q, part), (gid, k) in zip(bags, fields):
            rows = self.bag_table[offset : offset + k]
            if len(part) == 1:  # the group's field is its position's own: ids id1, rows g's
                rows.copy_(self.g[part[0]][self.nb[part[0]].index(q)])
            else:
                self._tabulated(q, part, torch.from_numpy(representatives(gid, k)), out=rows)
            cols.append(gid + offset)
            offset += k
        self.bag_index = np.stack(cols, 1) if cols else np.zeros((self.n, 0), dtype=np.int64)
        self._offsets = torch.zeros(0, dtype=torch.int64)

    def _bag_offsets(self, m: int) -> torch.Tensor:
        """Start of each (row, dense output position) bag in a chunk of ``m`` rows' indices."""
        if self._offsets.shape[0] != m * len(self.bag_sizes):
            sizes = np.tile(self.bag_sizes, m)
            self._offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(sizes)[:-1]]))
        return self._offsets

    def forward(self, start: int, stop: int) -> torch.Tensor:
        """Network outputs for the rows ``start:stop`` of the batch."""
        rows = slice(start, stop)
        m = stop - start
        a1 = self.fc_bias.expand(m, -1)
        if self.qt:
            a1 = a1 + F.embedding_bag(torch.from_numpy(self.fc_index[rows]), self.fc_table, mode="sum")
        if self.qd:
            if self.bag_table.shape[0]:
                idx = torch.from_numpy(self.bag_index[rows].reshape(-1))
                z = F.embedding_bag(idx, self.bag_table, self._bag_offsets(m), mode="sum").reshape(m, -1)
                z += self.b2_dense
            else:
                z = self.b2_dense.expand(m, -1).clone()
            if self.dp:
                h1 = [self._h1(p, rows) for p in self.dp]
                z.addmm_(h1[0] if len(h1) == 1 else torch.cat(h1, 1), self.w_dense)
            a1 = torch.addmm(a1, torch.relu_(z), self.wfc_dense)
        return self.head(torch.relu(self.fc2(torch.relu(a1)))).squeeze(1)


def dedup_forward(
    net: torch.nn.Module, x: np.ndarray, mean: np.ndarray, std: np.ndarray, chunk: int = 1024
) -> torch.Tensor | None:
    """Outputs of the eval-mode ReNAS network ``net`` for the raw inputs ``x`` ``(N, C, H, W)``
    (float32, on CPU), standardised as ``(x - mean) / std`` (both ``(C, H, W)``), or ``None``
    when the batch repeats too few patterns for the tabulated evaluation to pay (then run
    ``net`` itself). ``chunk`` rows are evaluated at a time after the per-batch tables."""
    if x.ndim != 4 or x.shape[0] == 0:
        return None
    plan = _Plan(net, np.ascontiguousarray(x, dtype=np.float32), mean, std)
    if not plan.worth:
        return None
    step = max(1, int(chunk))
    return torch.cat([plan.forward(s, min(s + step, plan.n)) for s in range(0, plan.n, step)])
