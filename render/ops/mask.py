"""Masks: dream only where the artist says, and leave every other pixel exactly as it was.

Each frame's mask is read (an image, a video's frame, or a key on the source frame,
``render.ops.mask_key``) and inverted if asked, or it is the first frame's, carried
(``render.ops.mask_carry``): ``mask.track=flow`` moves it with the subject along the
source's optical flow (video dreams), ``mask.follow=camera`` with the camera's move
(zooms; by default a zoom's mask stays on the screen, a window into the dream). It is then
feathered: a ramp ``mask.feather`` pixels wide, centred on the edge, with exactly 0 beyond
it (a box filter, not a Gaussian, whose tails never reach 0). The dream is restricted to the feathered mask
(``dream.octaves``), and the frame written is ``keep(source, dreamed, strength * mask)``:
where the weight is 0 that is the source frame itself, bit for bit after uint8.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from dream.errors import UserError
from render.config import MaskConfig
from render.media.mask_file import brightness, is_video_file, iter_mask_frames, probe_mask_video, read_mask_image
from render.ops.flow import FrameMotion
from render.ops.mask_carry import interior, place, refine_shift, shift_matrix, subject_shift
from render.ops.mask_key import is_key, key_mask, parse_key
from render.timeline import Timeline, Track


@dataclass(frozen=True)
class FrameMask:
    """One frame's mask.

    Attributes:
        dream: (B, 1, H, W) feathered mask in [0, 1]: where the dream's gradient may act.
        weight: (B, 1, H, W) ``strength * dream``: how much of the dream the frame shows.
    """

    dream: torch.Tensor
    weight: torch.Tensor

    @property
    def empty(self) -> bool:
        """Nothing of the dream shows: the frame is its source."""
        return not bool(self.weight.any())


def feather(mask: torch.Tensor, pixels: int) -> torch.Tensor:
    """Soften a mask's edge over ``pixels`` pixels, centred on it; 0 stays exactly 0 beyond the ramp.

    A separable box filter of width ``pixels + 1`` makes a linear ramp, a smoothstep rounds its ends.

    Args:
        mask: (B, 1, H, W) in [0, 1].

    Returns:
        (B, 1, H, W) in [0, 1]; ``mask`` itself when ``pixels`` is 0.
    """
    if pixels <= 0:
        return mask
    radius = (pixels + 1) // 2
    width = 2 * radius + 1
    padded = F.pad(mask, (radius, radius, radius, radius), mode="replicate")
    ramp = F.avg_pool2d(F.avg_pool2d(padded, (width, 1), stride=1), (1, width), stride=1)
    ramp = ramp.clamp(0.0, 1.0)
    return ramp * ramp * (3.0 - 2.0 * ramp)


def keep(source: torch.Tensor, dreamed: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``source`` where ``weight`` is 0 (exactly), ``dreamed`` where it is 1, a blend between.

    Args:
        source, dreamed: (B, 3, H, W).
        weight: (B or 1, 1, H, W) in [0, 1].
    """
    return torch.lerp(source, dreamed, weight.expand_as(source))


@dataclass(frozen=True)
class MaskSettings:
    """The ``mask`` config section, checked, with its strength schedule parsed."""

    cfg: MaskConfig
    strength: Track

    @property
    def carries(self) -> bool:
        """Each frame's mask is the previous one's, moved (only the first is read)."""
        return self.cfg.track == "flow" or self.cfg.follow == "camera"


def mask_settings(cfg: MaskConfig, strength: Track) -> MaskSettings:
    """Check the ``mask`` section; bad values are UserErrors.

    ``mask.track`` and ``mask.follow`` are closed choices of the schema (``MaskTrack``, ``MaskFollow``); which modes
    honour which choice is ``Mode.check``'s.

    Args:
        strength: ``mask.strength`` as the render's timeline has it (parsed and checked there).
    """
    if isinstance(cfg.feather, bool) or not isinstance(cfg.feather, int) or cfg.feather < 0:
        raise UserError(f"Config key 'mask.feather' is {cfg.feather}, but must be 0 or more pixels (e.g. 8).")
    if is_key(cfg.source):
        parse_key(cfg.source)
    return MaskSettings(cfg, strength)


RawReader = Callable[[int, torch.Tensor], torch.Tensor]  # (frame index, source (1, 3, H, W)) -> (1, 1, H, W)


@dataclass
class FrameMasks:
    """The masks of a render's frames, in order.

    Attributes:
        settings: the checked ``mask`` section.
        read: the mask of a frame as drawn or keyed, before inversion.
        border: border mode of the camera's warp, for a mask that follows the camera.
        drawing: the first frame's mask as drawn (before ``mask.invert``), when it is carried
            (``render.ops.mask_carry``): a tracked subject is its white part.
        placement: (1, 3, 3) where the drawing is now: first-frame pixels -> this frame's.
        last: the last frame's mask before feathering.
        last_grey: (1, 1, H, W) the last source frame's brightness, which a tracked subject is aligned to.
    """

    settings: MaskSettings
    read: RawReader
    border: str = "reflection"
    drawing: torch.Tensor | None = None
    placement: torch.Tensor | None = None
    last: torch.Tensor | None = None
    last_grey: torch.Tensor | None = None

    def next(self, index: int, source: torch.Tensor, camera: torch.Tensor | None = None,
             motion: FrameMotion | None = None) -> FrameMask:
        """Frame ``index``'s mask; ``camera`` (the camera's (1, 3, 3) move) or ``motion`` (video) is the move
        from the last frame.

        Args:
            source: (1, 3, H, W) the frame as it is without a dream (keys are read from it).
        """
        grey = brightness(source)
        raw = self._carried(grey, camera, motion) if self.drawing is not None else self._read(index, source)
        self.last, self.last_grey = raw, grey
        soft = feather(raw, self.settings.cfg.feather)
        return FrameMask(soft, soft * self.settings.strength.at(index))

    def _read(self, index: int, source: torch.Tensor) -> torch.Tensor:
        drawn = self.read(index, source)
        if self.settings.carries:  # the drawing as painted: white is the subject it follows, inverted or not
            self.drawing, self.placement = drawn, torch.eye(3, device=drawn.device).unsqueeze(0)
        return 1.0 - drawn if self.settings.cfg.invert else drawn

    def _carried(self, grey: torch.Tensor, camera: torch.Tensor | None, motion: FrameMotion | None) -> torch.Tensor:
        cfg = self.settings.cfg
        if motion is not None and cfg.track == "flow":
            self.placement = self._tracked(grey, motion)
        if camera is not None and cfg.follow == "camera" and not torch.equal(camera, torch.eye(3)[None].to(camera)):
            self.placement = camera @ self.placement
        if cfg.track == "flow":  # beyond the carried subject is background: dreamed when inverted
            placed = place(self.drawing, self.placement, "zeros")
            return 1.0 - placed if cfg.invert else placed
        return place(1.0 - self.drawing if cfg.invert else self.drawing, self.placement, self.border)

    def _tracked(self, grey: torch.Tensor, motion: FrameMotion) -> torch.Tensor:
        """The placement moved with the subject (the drawing's white, also when inverted): the flow inside it,
        refined on the pixels."""
        shift = subject_shift(place(self.drawing, self.placement, "zeros"), motion)
        if motion.scene_cut:
            return self.placement
        guess = shift_matrix(*shift, self.drawing.device) @ self.placement
        region = interior(place(self.drawing, guess, "zeros"))
        if region.any():
            shift = refine_shift(self.last_grey, grey, region, shift)
        return shift_matrix(*shift, self.drawing.device) @ self.placement

    def snapshot(self) -> dict[str, torch.Tensor]:
        """What a resume point keeps of the masks: the carried drawing, where it is, and the last mask."""
        if self.drawing is None:
            return {}
        return {"mask_drawing": self.drawing.cpu().clone(), "mask_placement": self.placement.cpu().clone(),
                "mask_last": self.last.cpu().clone(), "mask_last_grey": self.last_grey.cpu().clone()}

    def restore(self, snapshot: dict, device: torch.device) -> None:
        if "mask_drawing" in snapshot:
            self.drawing = snapshot["mask_drawing"].to(device)
            self.placement = snapshot["mask_placement"].to(device)
            self.last = snapshot["mask_last"].to(device)
            self.last_grey = snapshot["mask_last_grey"].to(device)


def render_masks(mask: MaskConfig, border: str, frames: int, frames_meaning: str, device: torch.device,
                 timeline: Timeline) -> FrameMasks | None:
    """The masks of a render's ``mask`` section over ``frames`` frames (None without ``mask.source``), checked.

    The strength is the render's ``timeline``'s; a carried mask moves over the camera's ``border``
    (``motion.border``).
    """
    settings = mask_settings(mask, timeline.track("mask.strength"))
    return open_frame_masks(settings, frames, frames_meaning, device, border)


def open_frame_masks(settings: MaskSettings, frames: int, frames_meaning: str, device: torch.device,
                     border: str = "reflection") -> FrameMasks | None:
    """The render's masks (None without ``mask.source``); a file is read and checked here, before any frame.

    Args:
        frames: the frames a mask video must hold.
        frames_meaning: what those frames are, for the error, e.g. "the source video's frames".
    """
    source = settings.cfg.source
    if not source:
        return None
    if is_key(source):
        terms = parse_key(source)
        return FrameMasks(settings, lambda _, frame: key_mask(frame, terms), border)
    if is_video_file(source):
        return FrameMasks(settings, _video_reader(settings.cfg, frames, frames_meaning, device), border)
    return FrameMasks(settings, _image_reader(settings.cfg, device), border)


def _image_reader(cfg: MaskConfig, device: torch.device) -> RawReader:
    """A mask image read once, scaled to each frame's size."""
    native = read_mask_image(cfg.source, None, device)
    _refuse_black((1.0 - native) if cfg.invert else native, cfg, "image")
    scaled: dict[tuple[int, int], torch.Tensor] = {}

    def read(_: int, frame: torch.Tensor) -> torch.Tensor:
        size = tuple(frame.shape[-2:])
        if size not in scaled:
            scaled[size] = read_mask_image(cfg.source, size, device)
        return scaled[size]

    return read


def _refuse_black(dreamed: torch.Tensor, cfg: MaskConfig, kind: str) -> None:
    """A UserError when the mask (inverted already, if asked) dreams nowhere."""
    if not bool(dreamed.any()):
        colour = "white" if cfg.invert else "black"
        raise UserError(
            f"The mask {kind} {cfg.source} (mask.source) is all {colour}{' and mask.invert=true' * cfg.invert}, so "
            f"nothing would be dreamed. Paint white where the dream goes (black keeps the picture), or check "
            f"mask.invert."
        )


@dataclass
class _VideoReader:
    """A mask video's frames, streamed; reading any other frame than the next reopens it there."""

    path: str
    device: torch.device
    frames: Iterator[torch.Tensor] | None = None
    next_index: int = 0
    size: tuple[int, int] = field(default=(0, 0))

    def __call__(self, index: int, source: torch.Tensor) -> torch.Tensor:
        size = tuple(source.shape[-2:])
        if self.frames is None or index != self.next_index or size != self.size:
            self.frames, self.size = iter_mask_frames(self.path, size, index, self.device), size
        frame = next(self.frames, None)
        if frame is None:
            raise UserError(f"The mask video {self.path} (mask.source) ended before frame {index}; re-export it.")
        self.next_index = index + 1
        return frame


def _video_reader(cfg: MaskConfig, frames: int | None, frames_meaning: str, device: torch.device) -> RawReader:
    """A mask video, checked: its frame count, and that some frame dreams somewhere."""
    if cfg.track == "flow" or cfg.follow == "camera":
        raise UserError("A mask video has a mask for every frame, so it isn't carried from frame to frame: leave "
                        "out mask.track and mask.follow, or pass one image for the first frame.")
    if frames is None:
        raise UserError(f"The mask video {cfg.source} (mask.source) has a mask per frame, but an endless render "
                        "(frames=null) has no last frame to match. Give frames=N, or use a mask image.")
    info = probe_mask_video(cfg.source)
    if info.frames != frames:
        raise UserError(
            f"The mask video {cfg.source} (mask.source) has {info.frames} frames, but {frames_meaning} are {frames}: "
            f"each frame needs its own mask. Re-export the mask with {frames} frames (one per frame, in order), "
            f"or use a mask image."
        )
    peak = torch.zeros(1, 1, 1, 1, device=device)
    for frame in iter_mask_frames(cfg.source, (info.height, info.width), 0, device):
        peak = torch.maximum(peak, ((1.0 - frame) if cfg.invert else frame).amax((2, 3), keepdim=True))
    _refuse_black(peak, cfg, "video")
    return _VideoReader(cfg.source, device)
