"""Images made to hurt: small files that decode to a lot (issue 30, finding 6)."""

import io
import struct
import zlib

from PIL import Image


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width=7300, height=5460):
    """A 1-bit PNG of one colour: about 5 KB that decode to width x height pixels (39.9 megapixels)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(row * height, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def many_frames_gif(frames=50_000):
    """A 1x1 GIF of `frames` frames, black and white in turn (50,000: 1.1 MB)."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"

    def frame(pixel):  # 20 ms; one pixel, LZW-coded: clear, the pixel, end
        control = b"\x21\xf9\x04\x04\x02\x00\x00\x00"
        return control + b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00" + bytes([2, 2, 0x44 | pixel << 3, 1, 0])

    return screen + loop + (frame(0) + frame(1)) * (frames // 2) + frame(0) * (frames % 2) + b"\x3b"


def lying_apng(frames=50, says=1):
    """An animated PNG of `frames` frames whose animation control chunk says it has `says`."""
    buffer = io.BytesIO()
    pictures = [Image.new("RGB", (40, 40), (n, 0, 0)) for n in range(frames)]
    pictures[0].save(buffer, "PNG", save_all=True, append_images=pictures[1:], duration=50)
    data = bytearray(buffer.getvalue())
    at = data.find(b"acTL")
    data[at - 4 : at + 16] = _chunk(b"acTL", struct.pack(">II", says, 0))
    return bytes(data)


def stored_image(chat_id, width=640, height=480, alt="", thumb=None):
    """An image as images.store keeps one of this chat's, stored locally (the file need not exist)."""
    name = "A" * 23 + str(width % 10)
    image = {
        "url": f"/chats/{chat_id}/images/{name}.png",
        "width": width,
        "height": height,
        "alt": alt,
        "ref": f"file:{chat_id}/{name}.png",
    }
    if thumb:
        url = f"/chats/{chat_id}/images/{name}.png.thumb.webp"
        image["thumb"] = {"url": url, "width": thumb[0], "height": thumb[1]}
    return image
