"""Images in messages: decoded and encoded afresh (decoding.py: nothing but
the picture reaches the other person), then stored on Cloudinary (when
CLOUDINARY_URL is set) or under UPLOAD_DIR and served to members only, each
with a thumbnail for the chat log; and what a stored image's URL and
reference may be, so that nothing else passes for one."""

import logging
import os
import re
import secrets
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudinary.exceptions
import cloudinary.uploader
from flask import current_app, url_for

from app.auth import throttle
from app.chats import decoding
from app.chats.decoding import EXTENSIONS, THUMB_SIDE, ImageError
from app.connections import key
from config import rate

log = logging.getLogger(__name__)

THUMB_SUFFIX = ".thumb.webp"
MAX_SIDE = 1_000_000  # px: what a stored image's width or height may say
# What store() names a file (token_urlsafe(18)), and a Cloudinary upload.
STORED_NAME = r"[A-Za-z0-9_-]{24}"
LOCAL_NAME = re.compile(rf"^{STORED_NAME}(?:\.jpg|\.png|\.gif|\.webp)(?:{re.escape(THUMB_SUFFIX)})?$")
CLOUDINARY_HOST = "res.cloudinary.com"
UploadRefused = throttle.Refused
# Images one person may send: each costs up to a second of CPU (a 40-megapixel PNG, 0.8 s).
UPLOADS = rate("30 per 10 minutes")


class StorageError(Exception):
    """The image could not be stored (Cloudinary refused or is unreachable)."""


def count_upload(user_id):
    """Count an image `user_id` sends; UploadRefused when they have sent too many lately."""
    limit = throttle.Limit(
        key("{uploads:" + str(user_id) + "}"),
        *UPLOADS,
        "You have sent many images in a short time. You can send another in {wait}.",
    )
    throttle.take((limit,))


def _read(upload):
    limit = current_app.config["MAX_IMAGE_BYTES"]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise ImageError(f"The image is larger than {limit // (1024 * 1024)} MB. Attach a smaller one.")
    return data


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
    image, decoded_bytes = decoding.inspect(_read(upload), current_app.config["MAX_IMAGE_PIXELS"])
    with decoding.budget.take(decoded_bytes):
        encoded, image_format, width, height, thumb = decoding.off_the_loop(decoding.prepare, image)
    name = secrets.token_urlsafe(18)
    thumb_width, thumb_height = decoding.thumb_size(width, height)
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
