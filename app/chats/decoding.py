"""Decoding an upload, within bounds: judged by its content, its size and
frames read from its header (truthfully) before anything is decoded, then
decoded and encoded afresh (nothing but the picture: no GPS or other
metadata, no data after the image), with a thumbnail, by at most
DECODING_BUDGET bytes of pixels at once in a process, off the event loop."""

import io
import struct
import threading
import warnings
from contextlib import contextmanager

import gevent
from gevent import monkey
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}
THUMB_SIDE = 640  # px, the longest side: a bubble is at most 320 CSS px wide, at 2x
# What survives re-encoding: how to show the picture, nothing about where or by what it was taken.
KEPT_INFO = ("transparency", "duration", "loop", "background")
DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    OverflowError,
    struct.error,
    Image.DecompressionBombError,
)
MAX_FRAMES = 500  # an animation's frames: a 1x1 GIF of 50,000 frames (1.9 MB) took 5.7 s of CPU
# Decoded bytes a process works on at once, over all its uploads: twelve
# parallel 40-megapixel uploads took a web process from 367 MB to 2.74 GB.
# An image larger than this alone is decoded alone.
DECODING_BUDGET = 64 * 1024 * 1024
BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "PA": 2, "I;16": 2, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3}


class ImageError(ValueError):
    """The upload is not an image we accept; the message says why."""


UNREADABLE = "That file is not an image we can show. Attach a JPEG, PNG, GIF or WebP image."


def _png_frames(data):
    """The frames an (A)PNG holds, counted from its chunks: Pillow believes
    the count the file states, which can lie."""
    frames, stated, at = 0, None, 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        if kind == b"acTL":
            stated = struct.unpack(">I", data[at + 8 : at + 12])[0]
        elif kind == b"fcTL":
            frames += 1
        elif kind == b"IEND":
            break
        at += 12 + length
    if stated is not None and stated != frames:
        raise ImageError(UNREADABLE)
    return max(frames, 1)


def _frames(image, data):
    """How many frames `image` has, reading no further than MAX_FRAMES + 1."""
    if image.format == "PNG":
        return _png_frames(data)
    if not getattr(image, "is_animated", False):
        return 1
    try:
        image.seek(MAX_FRAMES)
    except EOFError:
        return image.n_frames
    finally:
        image.seek(0)
    return MAX_FRAMES + 1


def inspect(data, max_pixels):
    """The image, opened but not decoded, and the bytes its decoding takes;
    ImageError if it is not one we accept. Only the header is read: a 5 KB
    PNG can claim 40 megapixels, a 17 KB one 144."""
    try:
        with warnings.catch_warnings():  # Pillow's warning of a bomb: refused below, at our own limit
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except DECODE_ERRORS:
        raise ImageError(UNREADABLE) from None
    if image.format not in EXTENSIONS:
        raise ImageError("Attach a JPEG, PNG, GIF or WebP image.")
    try:
        frames = _frames(image, data)
    except ImageError:
        raise
    except DECODE_ERRORS:
        raise ImageError(UNREADABLE) from None
    if frames > MAX_FRAMES:
        raise ImageError(f"This animation has more than {MAX_FRAMES} frames. Attach a shorter one.")
    pixels = image.width * image.height * frames
    if pixels > max_pixels:
        raise ImageError(
            f"This image is {pixels / 1e6:.0f} megapixels; the limit is {max_pixels / 1e6:.0f}. Attach a smaller one."
        )
    # An animation's frames after the first are RGB or RGBA in Pillow, whatever the first is.
    return image, pixels * (4 if frames > 1 else BYTES_PER_PIXEL.get(image.mode, 4))


class Budget:
    """Work shared by a process's requests: each takes its amount and waits
    while the others hold too much; one alone may take more than all."""

    def __init__(self, total):
        self.total, self.held = total, 0
        self.changed = threading.Condition()  # gevent's, in a web process: waiting yields to other requests

    @contextmanager
    def take(self, amount):
        with self.changed:
            self.changed.wait_for(lambda: self.held == 0 or self.held + amount <= self.total)
            self.held += amount
        try:
            yield
        finally:
            with self.changed:
                self.held -= amount
                self.changed.notify_all()


budget = Budget(DECODING_BUDGET)


def _open(image):
    try:
        image.load()
    except DECODE_ERRORS:
        raise ImageError(UNREADABLE) from None
    return image


def _clean(frame):
    frame.info = {key: value for key, value in frame.info.items() if key in KEPT_INFO}
    return frame


def reencode(image):
    """(bytes, format, picture) of an inspected `image` encoded afresh: turned
    upright as its EXIF orientation says, then without metadata (the colour
    profile stays, so colours do not shift) or trailing bytes."""
    image = _open(image)
    image_format, icc = image.format, image.info.get("icc_profile")
    options = {"icc_profile": icc} if icc else {}
    if getattr(image, "n_frames", 1) > 1:  # an animation: every frame, with its timing
        frames = [_clean(frame.copy()) for frame in ImageSequence.Iterator(image)]
        picture = frames[0]
        options.update(save_all=True, append_images=frames[1:], duration=[f.info.get("duration", 100) for f in frames])
        options["loop"] = image.info.get("loop", 0)
    else:
        picture = _clean(ImageOps.exif_transpose(image, in_place=True) or image)
    if image_format == "JPEG":
        options.update(quality=90)
        if picture.mode not in ("RGB", "L", "CMYK"):
            picture = picture.convert("RGB")
    elif image_format == "WEBP":
        options.update(quality=90)
    out = io.BytesIO()
    picture.save(out, image_format, **options)
    return out.getvalue(), image_format, picture


def thumb_size(width, height, side=THUMB_SIDE):
    """The size that fits within side x side, never larger than the image (Cloudinary's c_limit)."""
    scale = min(1, side / width, side / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _thumbnail(picture):
    """Made small first, then converted: converted whole, a 40-megapixel
    picture took 120 MB more (a copy, even from RGB to RGB)."""
    size = thumb_size(picture.width, picture.height)
    mode = "RGBA" if picture.mode in ("P", "PA", "LA", "RGBA") else "RGB"
    if picture.mode not in ("L", "LA", "RGB", "RGBA"):  # modes Lanczos cannot work in: to four times the size first
        near = (min(picture.width, size[0] * 4), min(picture.height, size[1] * 4))
        picture = picture.resize(near, Image.Resampling.NEAREST).convert(mode)
    small = picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0).convert(mode)
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80)
    return out.getvalue()


def prepare(image):
    """The work of the CPU: the image encoded afresh, its size, and its thumbnail (None if it is small)."""
    encoded, image_format, picture = reencode(image)
    width, height = picture.width, picture.height
    thumb = _thumbnail(picture) if thumb_size(width, height) != (width, height) else None
    return encoded, image_format, width, height, thumb


def off_the_loop(work, *args):
    """Run CPU-bound `work` in a thread of gevent's pool in a web process, or
    here otherwise. Encoding a 12-megapixel photo and its thumbnail took 410 ms
    of CPU here: in the event loop, every open page of the process would stall
    for as long. Pillow lets go of the GIL while it works."""
    if monkey.is_module_patched("threading"):
        return gevent.get_hub().threadpool.apply(work, args)
    return work(*args)
