"""Interpolation between number keyframes: ``linear`` (Deforum's), monotone ``cubic``, or ``step``."""

from __future__ import annotations

import numpy as np

from render.config import Interpolation

INTERPOLATIONS = tuple(Interpolation)  # motion.interpolation's choices; a key may also name its own


def _fill_gaps(table: np.ndarray, method: str) -> np.ndarray:
    """Fill the NaN frames of ``table`` ``(frames,)`` from the known ones; ends are held."""
    known = np.flatnonzero(~np.isnan(table))
    missing = np.flatnonzero(np.isnan(table))
    filled = table.copy()
    interpolate = {"linear": np.interp, "cubic": _monotone_cubic, "step": _step}[method]
    filled[missing] = interpolate(missing.astype(np.float64), known.astype(np.float64), table[known])
    return filled


def _step(query: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The value of the last anchor at or before each query (the first one before it)."""
    index = np.clip(np.searchsorted(xs, query, side="right") - 1, 0, None)
    return ys[index]


def _monotone_cubic(query: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Piecewise cubic Hermite through ``(xs, ys)`` with monotone (PCHIP) slopes; held outside."""
    if len(xs) < 2:
        return np.full_like(query, ys[0])
    slopes = _pchip_slopes(xs, ys)
    q = np.clip(query, xs[0], xs[-1])
    k = np.clip(np.searchsorted(xs, q, side="right") - 1, 0, len(xs) - 2)
    h = xs[k + 1] - xs[k]
    u = (q - xs[k]) / h
    return (
        (1 + 2 * u) * (1 - u) ** 2 * ys[k]
        + u * (1 - u) ** 2 * h * slopes[k]
        + u**2 * (3 - 2 * u) * ys[k + 1]
        + u**2 * (u - 1) * h * slopes[k + 1]
    )


def _pchip_slopes(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson slopes (weighted harmonic mean, zero at extrema); zero at both ends so the
    curve joins the held values smoothly."""
    h = np.diff(xs)
    delta = np.diff(ys) / h
    w1, w2 = 2 * h[1:] + h[:-1], h[1:] + 2 * h[:-1]
    same_sign = delta[:-1] * delta[1:] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 + w2) / (w1 / delta[:-1] + w2 / delta[1:])
    slopes = np.zeros_like(ys)
    slopes[1:-1] = np.where(same_sign, harmonic, 0.0)
    return slopes
