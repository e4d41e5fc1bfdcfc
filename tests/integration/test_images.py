"""Uploaded images are decoded and encoded afresh before they are stored:
nothing but the picture reaches the other person (no GPS, no trailing
data), decompression bombs are refused, and a thumbnail is made."""

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from app.chats import decoding, images
from tests.support.images import lying_apng, many_frames_gif, png_bomb
from tests.support.people import HTMX, errors_in, image_bytes, send
from tests.support.queues import queued_jobs

GPS = 0x8825
ORIENTATION = 0x0112


def photo(size=(40, 30), trailing=b"", orientation=6, kind="JPEG"):
    """A photo as a phone takes it: GPS position and orientation in its EXIF, maybe more after it."""
    image = Image.new("RGB", size, (10, 200, 30))
    image.paste((255, 0, 0), (0, 0, 10, 10))  # top left, to see which way up it ends
    exif = Image.Exif()
    exif[GPS] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[ORIENTATION] = orientation
    buffer = io.BytesIO()
    image.save(buffer, kind, exif=exif.tobytes())
    return buffer.getvalue() + trailing


def sent_image(pair, ns_app, data, name="photo.jpg"):
    response = send(pair.alice, "", headers=HTMX, image=(io.BytesIO(data), name))
    assert response.status_code == 200, response.get_data(as_text=True)
    [job] = queued_jobs(ns_app, "chat:messages")
    return job["image"]


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_what_the_other_person_gets_has_no_location_and_nothing_after_the_image(pair, ns_app, kind):
    data = photo(trailing=b"HIDDEN-AFTER-THE-IMAGE", kind=kind)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS)  # the upload has it
    image = sent_image(pair, ns_app, data, f"photo.{kind.lower()}")
    served = pair.bob.get(image["url"]).data
    assert served != data and b"HIDDEN-AFTER-THE-IMAGE" not in served
    decoded = Image.open(io.BytesIO(served))
    assert decoded.format == kind
    assert not decoded.getexif() and "exif" not in decoded.info and not decoded.getexif().get_ifd(GPS)


def test_a_photo_is_turned_upright_before_its_orientation_is_dropped(pair, ns_app):
    image = sent_image(pair, ns_app, photo(size=(40, 30), orientation=6))  # 6: rotate 90° clockwise to show
    assert (image["width"], image["height"]) == (30, 40)
    decoded = Image.open(io.BytesIO(pair.bob.get(image["url"]).data))
    assert decoded.size == (30, 40)
    red, green, blue = decoded.convert("RGB").getpixel((25, 4))  # the red corner is now top right
    assert red > 200 and green < 80


def test_an_animation_keeps_its_frames(pair, ns_app):
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "green", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0, comment=b"secret")
    image = sent_image(pair, ns_app, buffer.getvalue(), "moving.gif")
    decoded = Image.open(io.BytesIO(pair.bob.get(image["url"]).data))
    assert decoded.n_frames == 3 and decoded.info["duration"] == 120
    assert b"secret" not in pair.bob.get(image["url"]).data


def test_a_decompression_bomb_is_refused_before_it_is_decoded(pair, ns_app):
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG", optimize=True)
    assert len(bomb.getvalue()) < 20_000  # 17 KB on the wire, 576 MB once decoded
    response = send(pair.alice, "", headers=HTMX, image=(io.BytesIO(bomb.getvalue()), "bomb.png"))
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == [
        "This image is 144 megapixels; the limit is 40. Attach a smaller one."
    ]
    assert queued_jobs(ns_app, "chat:messages") == []


def refusal(pair, data, name):
    response = send(pair.alice, "Look", headers=HTMX, image=(io.BytesIO(data), name))
    return response.status_code, errors_in(response.get_data(as_text=True))


def test_an_animation_of_too_many_frames_is_refused(pair, ns_app):
    """Issue 30, finding 6: a 1x1 GIF of 50,000 frames was accepted, 5.7 s of CPU an upload."""
    assert refusal(pair, many_frames_gif(50_000), "frames.gif") == (
        422,
        ["This animation has more than 500 frames. Attach a shorter one."],
    )
    assert queued_jobs(ns_app, "chat:messages") == []


def test_an_animated_png_that_lies_about_its_frames_is_refused(pair, ns_app):
    """Issue 30, finding 6: an APNG whose frame count lies was counted as one frame."""
    status, errors = refusal(pair, lying_apng(frames=50, says=1), "lies.png")
    assert status == 422 and errors == ["That file is not an image we can show. Attach a JPEG, PNG, GIF or WebP image."]
    assert sent_image(pair, ns_app, lying_apng(frames=3, says=3), "honest.png")["width"] == 40


def test_parallel_uploads_decode_within_the_process_budget(pair, ns_app, monkeypatch):
    """Issue 30, finding 6: twelve parallel uploads of a 5 KB PNG that decodes
    to 40 megapixels took a web process from 367 MB to 2.74 GB. They now
    decode one at a time (the memory figure is in docs/security.md)."""
    bomb = png_bomb()
    assert len(bomb) < 6000
    busy, most, lock = 0, 0, threading.Lock()
    prepare = decoding.prepare

    def counted(image):
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
        try:
            return prepare(image)
        finally:
            with lock:
                busy -= 1

    monkeypatch.setattr(decoding, "prepare", counted)

    def upload(n):
        tab = ns_app.test_client()
        for name, value in pair.alice.cookies.items():
            tab.set_cookie(name, value)
        data = {"client_id": f"{n:032x}", "text": "", "csrf_token": pair.alice.token, "image": (io.BytesIO(bomb), "b")}
        return tab.post(pair.url + "/messages", data=data, headers=HTMX, content_type="multipart/form-data").status_code

    with ThreadPoolExecutor(12) as pool:
        assert list(pool.map(upload, range(12))) == [200] * 12
    assert most == 1
    assert len(queued_jobs(ns_app, "chat:messages")) == 12


def test_images_a_person_sends_are_limited_and_the_draft_is_kept(pair, ns_app, monkeypatch):
    monkeypatch.setattr(images, "UPLOADS", (2, 600), raising=False)
    for _ in range(2):
        sent_image(pair, ns_app, image_bytes(), "small.png")
    response = send(pair.alice, "My draft", image=(io.BytesIO(image_bytes()), "small.png"))
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert errors_in(html) == [
        "You have sent many images in a short time. You can send another in 10 minutes. Attach the image again."
    ]
    assert "My draft" in html
    assert send(pair.alice, "Text still goes", headers=HTMX).status_code == 200


def test_a_large_image_gets_a_thumbnail_served_to_members_only(pair, ns_app):
    from tests.support.people import person

    image = sent_image(pair, ns_app, photo(size=(1600, 1200), orientation=1))
    assert (image["width"], image["height"]) == (1600, 1200)
    thumb = image["thumb"]
    assert (thumb["width"], thumb["height"]) == (640, 480) and thumb["url"] != image["url"]
    served = pair.bob.get(thumb["url"])
    assert served.status_code == 200 and served.mimetype == "image/webp"
    assert Image.open(io.BytesIO(served.data)).size == (640, 480)
    assert person(ns_app, "eve").get(thumb["url"]).status_code == 404


def test_a_small_image_is_its_own_thumbnail(pair, ns_app):
    image = sent_image(pair, ns_app, image_bytes("PNG"), "small.png")
    assert image["thumb"] == {"url": image["url"], "width": 4, "height": 3}


def test_with_cloudinary_the_thumbnail_is_a_transformation_of_the_upload(pair, ns_app):
    from tests.support.services import FakeCloudinary

    fake = FakeCloudinary()
    ns_app.config["CLOUDINARY_URL"] = fake.url
    try:
        image = sent_image(pair, ns_app, photo(size=(1000, 2000), orientation=1, trailing=b"TRAILER"))
        [upload] = fake.uploads
        assert b"TRAILER" not in upload["file"] and not Image.open(io.BytesIO(upload["file"])).getexif()
        assert image["url"].startswith("https://res.cloudinary.com/demo/image/upload/v1/parley/")
        assert image["thumb"] == {
            "url": image["url"].replace("/upload/", "/upload/c_limit,w_640,h_640/"),
            "width": 320,
            "height": 640,
        }
    finally:
        fake.stop()
