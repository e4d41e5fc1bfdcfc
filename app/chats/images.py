"""Images in messages: judged by their content, decoded and encoded afresh
(so nothing but the picture reaches the other person: no GPS or other
metadata, no data hidden after the image), then stored on Cloudinary (when
CLOUDINARY_URL is set) or under UPLOAD_DIR and served to members only, each
with a thumbnail for the chat log."""

import io
import logging
import os
import re
import secrets
import struct
import threading
import warnings
from contextlib import contextmanager
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudinary.exceptions
import cloudinary.uploader
import gevent
from flask import current_app, url_for
from gevent import monkey
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from app.auth import throttle
from app.connections import key
from config import rate

log = logging.getLogger(__name__)

EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}
THUMB_SIDE = 640  # px, the longest side: a bubble is at most 320 CSS px wide, at 2x
THUMB_SUFFIX = ".thumb.webp"
MAX_SIDE = 1_000_000  # px: what a stored image's width or height may say
# What store() names a file (token_urlsafe(18)), and a Cloudinary upload.
STORED_NAME = r"[A-Za-z0-9_-]{24}"
LOCAL_NAME = re.compile(rf"^{STORED_NAME}(?:\.jpg|\.png|\.gif|\.webp)(?:{re.escape(THUMB_SUFFIX)})?$")
CLOUDINARY_HOST = "res.cloudinary.com"
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


UploadRefused = throttle.Refused
# Images one person may send: each costs up to a second of CPU (a 40-megapixel PNG, 0.8 s).
UPLOADS = "30 per 10 minutes"


class StorageError(Exception):
    """The image could not be stored (Cloudinary refused or is unreachable)."""


def count_upload(user_id):
    """Count an image `user_id` sends; UploadRefused when they have sent too many lately."""
    limit = throttle.Limit(
        key("{uploads:" + str(user_id) + "}"),
        *rate(UPLOADS),
        "You have sent many images in a short time. You can send another in {wait}.",
    )
    throttle.take((limit,))


def _read(upload):
    limit = current_app.config["MAX_IMAGE_BYTES"]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise ImageError(f"The image is larger than {limit // (1024 * 1024)} MB. Attach a smaller one.")
    return data


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


decoding = Budget(DECODING_BUDGET)


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


def _prepare(image):
    """The work of the CPU: the image encoded afresh, its size, and its thumbnail (None if it is small)."""
    encoded, image_format, picture = reencode(image)
    width, height = picture.width, picture.height
    thumb = _thumbnail(picture) if thumb_size(width, height) != (width, height) else None
    return encoded, image_format, width, height, thumb


def _off_the_loop(work, *args):
    """Run CPU-bound `work` in a thread of gevent's pool in a web process, or
    here otherwise. Encoding a 12-megapixel photo and its thumbnail took 410 ms
    of CPU here: in the event loop, every open page of the process would stall
    for as long. Pillow lets go of the GIL while it works."""
    if monkey.is_module_patched("threading"):
        return gevent.get_hub().threadpool.apply(work, args)
    return work(*args)


def cloudinary_options(url):
    """The SDK's options from CLOUDINARY_URL (cloudinary://key:secret@cloud?upload_prefix=...)."""
    parts = urlsplit(url)
    return {
        "cloud_name": parts.hostname,
        "api_key": unquote(parts.username or ""),
        "api_secret": unquote(parts.password or ""),
        **dict(parse_qsl(parts.query)),
    }


def store(chat_id, upload, alt):
    """Check, encode afresh and store an uploaded image:
    {url, width, height, alt, ref, thumb: {url, width, height}}."""
    image, decoded_bytes = inspect(_read(upload), current_app.config["MAX_IMAGE_PIXELS"])
    with decoding.take(decoded_bytes):
        encoded, image_format, width, height, thumb = _off_the_loop(_prepare, image)
    name = secrets.token_urlsafe(18)
    thumb_width, thumb_height = thumb_size(width, height)
    if current_app.config["CLOUDINARY_URL"]:
        try:
            result = cloudinary.uploader.upload(
                encoded,
                public_id=name,
                folder=f"parley/{chat_id}",
                resource_type="image",
                **cloudinary_options(current_app.config["CLOUDINARY_URL"]),
            )
        except cloudinary.exceptions.Error as error:
            raise StorageError(str(error)) from error
        url, ref = result["secure_url"], "cloudinary:" + result["public_id"]
        # A transformation of the upload, made by Cloudinary when first asked for.
        thumb_url = url.replace("/upload/", f"/upload/c_limit,w_{THUMB_SIDE},h_{THUMB_SIDE}/", 1)
    else:
        filename = name + EXTENSIONS[image_format]
        folder = os.path.join(current_app.config["UPLOAD_DIR"], str(chat_id))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, filename), "xb") as file:
            file.write(encoded)
        url = url_for("chats.image", chat_id=chat_id, name=filename)
        ref = "file:" + os.path.join(str(chat_id), filename)
        thumb_url = url
        if thumb:
            with open(os.path.join(folder, filename + THUMB_SUFFIX), "xb") as file:
                file.write(thumb)
            thumb_url = url_for("chats.image", chat_id=chat_id, name=filename + THUMB_SUFFIX)
    return {
        "url": url,
        "width": width,
        "height": height,
        "alt": alt or "",
        "ref": ref,
        "thumb": {"url": thumb_url, "width": thumb_width, "height": thumb_height},
    }


def our_url(url, chat_id):
    """`url` is where store() puts an image of this chat: our own image
    route, or an https URL of the chat's folder on Cloudinary."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not (parts.scheme or parts.netloc):
        folder, _, name = parts.path.rpartition("/")
        return folder == f"/chats/{chat_id}/images" and bool(LOCAL_NAME.match(name)) and not parts.query
    hosts = {CLOUDINARY_HOST}
    if current_app.config["CLOUDINARY_URL"]:
        hosts.add(cloudinary_options(current_app.config["CLOUDINARY_URL"]).get("secure_distribution"))
    return (
        parts.scheme == "https"
        and parts.hostname in hosts
        and parts.username is None
        and f"/parley/{chat_id}/" in parts.path
    )


def our_ref(ref, chat_id):
    """`ref` names an image store() kept for this chat."""
    if not isinstance(ref, str):
        return False
    return bool(
        re.fullmatch(rf"file:{chat_id}/{STORED_NAME}(?:\.jpg|\.png|\.gif|\.webp)", ref)
        or re.fullmatch(rf"cloudinary:parley/{chat_id}/{STORED_NAME}", ref)
    )


def _in_upload_dir(where):
    """The path of `where` under UPLOAD_DIR, links resolved; None if it would be anywhere else."""
    root = os.path.realpath(current_app.config["UPLOAD_DIR"])
    path = os.path.realpath(os.path.join(root, where))
    return path if os.path.commonpath([root, path]) == root and path != root else None


def discard(image):
    """Remove a stored image (and its thumbnail): one whose message was
    never queued, or of a deleted account. Only what store() could have
    made: a file under UPLOAD_DIR or an upload in Cloudinary's parley/
    folder (a forged job's `file:../canary.txt` deleted a file outside it)."""
    if not image:
        return
    ref = image.get("ref") if isinstance(image, dict) else None
    kind, _, where = ref.partition(":") if isinstance(ref, str) else ("", "", "")
    if kind == "cloudinary" and re.fullmatch(rf"parley/[0-9a-f]{{24}}/{STORED_NAME}", where):
        cloudinary.uploader.destroy(where, **cloudinary_options(current_app.config["CLOUDINARY_URL"]))
        return
    paths = [_in_upload_dir(path) for path in (where, where + THUMB_SUFFIX)] if kind == "file" else [None]
    if None in paths:
        log.warning("not removing an image that is none of ours: %r", ref)
        return
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
