"""Images in messages: judged by their content, decoded and encoded afresh
(so nothing but the picture reaches the other person: no GPS or other
metadata, no data hidden after the image), then stored on Cloudinary (when
CLOUDINARY_URL is set) or under UPLOAD_DIR and served to members only, each
with a thumbnail for the chat log."""

import io
import os
import secrets
import warnings
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudinary.exceptions
import cloudinary.uploader
import gevent
from flask import current_app, url_for
from gevent import monkey
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}
THUMB_SIDE = 640  # px, the longest side: a bubble is at most 320 CSS px wide, at 2x
THUMB_SUFFIX = ".thumb.webp"
# What survives re-encoding: how to show the picture, nothing about where or by what it was taken.
KEPT_INFO = ("transparency", "duration", "loop", "background")
DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


class ImageError(ValueError):
    """The upload is not an image we accept; the message says why."""


class StorageError(Exception):
    """The image could not be stored (Cloudinary refused or is unreachable)."""


def _read(upload):
    limit = current_app.config["MAX_IMAGE_BYTES"]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise ImageError(f"The image is larger than {limit // (1024 * 1024)} MB. Attach a smaller one.")
    return data


def _open(data, max_pixels):
    """The decoded image; ImageError if it is not one we accept. The size is
    checked from the header before anything is decoded: a 17 KB PNG can
    claim 12000x12000 pixels, 576 MB once decoded."""
    unreadable = ImageError("That file is not an image we can show. Attach a JPEG, PNG, GIF or WebP image.")
    try:
        with warnings.catch_warnings():  # Pillow's warning of a bomb: refused below, at our own limit
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        pixels = image.width * image.height * getattr(image, "n_frames", 1)
    except DECODE_ERRORS:
        raise unreadable from None
    if image.format not in EXTENSIONS:
        raise ImageError("Attach a JPEG, PNG, GIF or WebP image.")
    if pixels > max_pixels:
        raise ImageError(
            f"This image is {pixels / 1e6:.0f} megapixels; the limit is {max_pixels / 1e6:.0f}. Attach a smaller one."
        )
    try:
        image.load()
    except DECODE_ERRORS:
        raise unreadable from None
    return image


def _clean(frame):
    frame.info = {key: value for key, value in frame.info.items() if key in KEPT_INFO}
    return frame


def reencode(data, max_pixels):
    """(bytes, format, picture) of `data` encoded afresh: turned upright as
    its EXIF orientation says, then without metadata (the colour profile
    stays, so colours do not shift) or trailing bytes."""
    image = _open(data, max_pixels)
    image_format, icc = image.format, image.info.get("icc_profile")
    options = {"icc_profile": icc} if icc else {}
    if getattr(image, "n_frames", 1) > 1:  # an animation: every frame, with its timing
        frames = [_clean(frame.copy()) for frame in ImageSequence.Iterator(image)]
        picture = frames[0]
        options.update(save_all=True, append_images=frames[1:], duration=[f.info.get("duration", 100) for f in frames])
        options["loop"] = image.info.get("loop", 0)
    else:
        picture = _clean(ImageOps.exif_transpose(image))
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
    size = thumb_size(picture.width, picture.height)
    small = picture.convert("RGBA" if picture.mode in ("P", "PA", "LA", "RGBA") else "RGB")
    small = small.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80)
    return out.getvalue()


def _prepare(data, max_pixels):
    """The work of the CPU: the image encoded afresh, its size, and its thumbnail (None if it is small)."""
    encoded, image_format, picture = reencode(data, max_pixels)
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
    data = _read(upload)
    encoded, image_format, width, height, thumb = _off_the_loop(
        _prepare, data, current_app.config["MAX_IMAGE_PIXELS"]
    )
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


def discard(image):
    """Remove a stored image (and its thumbnail) whose message was never queued."""
    if not image:
        return
    kind, _, where = image["ref"].partition(":")
    if kind == "cloudinary":
        cloudinary.uploader.destroy(where, **cloudinary_options(current_app.config["CLOUDINARY_URL"]))
        return
    for path in (where, where + THUMB_SUFFIX):
        try:
            os.remove(os.path.join(current_app.config["UPLOAD_DIR"], path))
        except FileNotFoundError:
            pass
