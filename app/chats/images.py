"""Images in messages: judged by their content, then stored on Cloudinary
(when CLOUDINARY_URL is set) or under UPLOAD_DIR, served to members only."""

import io
import os
import secrets
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudinary.exceptions
import cloudinary.uploader
from flask import current_app, url_for
from PIL import Image, UnidentifiedImageError

EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}


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


def _inspect(data):
    """(format, width, height) of an image Pillow can read; else ImageError."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            if image.format not in EXTENSIONS:
                raise ImageError("Attach a JPEG, PNG, GIF or WebP image.")
            return image.format, image.width, image.height
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ImageError("That file is not an image we can show. Attach a JPEG, PNG, GIF or WebP image.") from None


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
    """Check and store an uploaded image: {url, width, height, alt, ref}."""
    data = _read(upload)
    image_format, width, height = _inspect(data)
    name = secrets.token_urlsafe(18)
    if current_app.config["CLOUDINARY_URL"]:
        try:
            result = cloudinary.uploader.upload(
                data,
                public_id=name,
                folder=f"parley/{chat_id}",
                resource_type="image",
                **cloudinary_options(current_app.config["CLOUDINARY_URL"]),
            )
        except cloudinary.exceptions.Error as error:
            raise StorageError(str(error)) from error
        url, ref = result["secure_url"], "cloudinary:" + result["public_id"]
    else:
        filename = name + EXTENSIONS[image_format]
        folder = os.path.join(current_app.config["UPLOAD_DIR"], str(chat_id))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, filename), "xb") as file:
            file.write(data)
        url = url_for("chats.image", chat_id=chat_id, name=filename)
        ref = "file:" + os.path.join(str(chat_id), filename)
    return {"url": url, "width": width, "height": height, "alt": alt or "", "ref": ref}


def discard(image):
    """Remove a stored image whose message was never queued."""
    if not image:
        return
    kind, _, where = image["ref"].partition(":")
    if kind == "cloudinary":
        cloudinary.uploader.destroy(where, **cloudinary_options(current_app.config["CLOUDINARY_URL"]))
    else:
        try:
            os.remove(os.path.join(current_app.config["UPLOAD_DIR"], where))
        except FileNotFoundError:
            pass
