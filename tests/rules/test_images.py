"""The variants' plain logic (_rules/images.py): the DROPZONE_VARIANTS setting, and the
picture of a variant made from an image's bytes, hostile ones included."""

from __future__ import annotations

import io

import pytest
from flask import Flask

from flask_dropzone import SettingError
from flask_dropzone._rules import images

from support.images import (
    TURNED,
    animated_gif,
    jpeg,
    jpeg_declaring,
    jpeg_with_app1,
    opened,
    png,
    png_16bit_grey,
    png_declaring,
    png_with_exif,
)

BOX = images.Box(240, 240)


def make(data: bytes, box: images.Box = BOX):
    made, mimetype = images.make(io.BytesIO(data), box)
    return opened(made), mimetype, made


def test_the_default_variant_is_a_240_pixel_thumbnail():
    assert images.variants({}) == {"thumbnail": images.Box(240, 240)}
    assert images.variants({images.VARIANTS: {"small": {"width": 64, "height": 32}}}) == {
        "small": images.Box(64, 32)
    }


@pytest.mark.parametrize(
    "value",
    [
        [("thumbnail", 240)],
        {"thumbnail": {"width": 240}},
        {"thumbnail": {"width": 0, "height": 240}},
        {"thumbnail": {"width": 240.5, "height": 240}},
        {"thumbnail": {"width": True, "height": 240}},
        {"thumbnail": {"width": 99999, "height": 240}},
        {"a/b": {"width": 10, "height": 10}},
        {"thumbnail": {"width": 10, "height": 10, "crop": True}},
    ],
)
def test_a_bad_variants_setting_is_an_error_naming_it(value):
    with pytest.raises(SettingError, match="DROPZONE_VARIANTS"):
        images.variants({images.VARIANTS: value})


def test_a_variant_fits_its_box_and_keeps_the_aspect_ratio():
    picture, mimetype, _ = make(jpeg((400, 200)))
    assert (picture.format, mimetype, picture.size) == ("JPEG", "image/jpeg", (240, 120))
    picture, _, _ = make(jpeg((100, 300)), images.Box(50, 50))
    assert picture.size == (17, 50)


def test_a_small_image_is_not_enlarged():
    picture, _, _ = make(jpeg((40, 20)))
    assert picture.size == (40, 20)


def test_a_variant_is_upright_by_the_exif_orientation():
    picture, _, _ = make(jpeg((400, 200), orientation=TURNED))
    assert picture.size == (120, 240)  # turned as a browser shows the photo


def test_a_variant_carries_no_metadata():
    source = jpeg((400, 200), orientation=TURNED, icc_profile=b"\x00" * 64, comment=b"secret")
    picture, _, made = make(source)
    assert b"Exif" not in made and b"PhoneMaker" not in made and b"secret" not in made
    assert not picture.getexif() and "icc_profile" not in picture.info
    assert b"ICC_PROFILE" not in made


def srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("kind", ["JPEG", "PNG"])
def test_a_variant_keeps_the_colour_profile_its_pixels_are_shown_by(kind):
    """A phone's wide-gamut photo looks as it should: its RGB profile goes with it."""
    profile = srgb_profile()
    assert profile[16:20] == b"RGB "
    if kind == "JPEG":
        source = jpeg((400, 200), icc_profile=profile)
    else:
        source = png((300, 300), "RGBA", (0, 120, 255, 128), icc_profile=profile)
    picture, _, _ = make(source)
    assert picture.format == kind and picture.info.get("icc_profile") == profile


def test_a_colour_profile_that_does_not_describe_the_variant_goes():
    cmyk = bytearray(srgb_profile())
    cmyk[16:20] = b"CMYK"  # a printer's profile: the variant is RGB
    picture, _, _ = make(jpeg((400, 200), icc_profile=bytes(cmyk)))
    assert "icc_profile" not in picture.info
    cut = srgb_profile()[:-10]  # not whole
    picture, _, _ = make(jpeg((400, 200), icc_profile=cut))
    assert "icc_profile" not in picture.info


def test_an_image_with_transparency_gives_a_png_and_an_opaque_one_a_jpeg():
    picture, mimetype, _ = make(png((300, 300), "RGBA", (0, 120, 255, 128)))
    assert (picture.format, picture.mode, mimetype) == ("PNG", "RGBA", "image/png")
    assert picture.getpixel((5, 5))[3] == 128
    picture, mimetype, _ = make(png((300, 300), "RGBA", (0, 120, 255, 255)))
    assert (picture.format, mimetype) == ("JPEG", "image/jpeg")


def test_an_animated_image_gives_its_first_frame():
    picture, _, _ = make(animated_gif())
    red, green, blue = picture.convert("RGB").getpixel((10, 10))
    assert red > 200 and blue < 60


def test_a_cmyk_jpeg_gives_an_rgb_variant():
    picture, mimetype, _ = make(jpeg((300, 300), color=(0, 255, 255, 0), mode="CMYK"))
    assert (picture.mode, mimetype, picture.size) == ("RGB", "image/jpeg", (240, 240))
    red, green, blue = picture.getpixel((10, 10))
    assert red > 200 and green < 80 and blue < 80  # no cyan: red


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped():
    picture, mimetype, _ = make(png_16bit_grey(value=0x8000))
    assert mimetype == "image/jpeg" and picture.mode == "L"
    assert 120 <= picture.getpixel((5, 5)) <= 136  # half-way grey, not white


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "data",
    [
        png_declaring(60000, 60000),  # past Pillow's own bomb limit
        png_declaring(9000, 6000),  # past MAX_PIXELS only
        jpeg_declaring(60000, 60000),
        jpeg(size=(400, 200))[:600],  # truncated
        b"GIF89a" + b"\x00" * 40,
        b"%PDF-1.4 not an image",
    ],
    ids=["png-bomb", "png-54-megapixels", "jpeg-bomb", "truncated-jpeg", "bad-gif", "pdf"],
)
def test_a_hostile_or_broken_file_makes_no_variant(data):
    with pytest.raises(images.NoVariant):
        images.make(io.BytesIO(data), BOX)


@pytest.mark.timeout(60)
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_huge_exif_block_still_gives_a_variant():
    picture, _, made = make(png_with_exif())
    assert picture.size == (100, 50) and len(made) < 100_000
    picture, _, _ = make(jpeg_with_app1())
    assert picture.size == (100, 50)


def test_only_the_types_browsers_show_are_opened():
    out = io.BytesIO()
    opened(png((20, 20), "RGB", (1, 2, 3))).save(out, "TIFF")
    with pytest.raises(images.NoVariant):
        images.make(io.BytesIO(out.getvalue()), BOX)


def test_a_variant_is_named_by_its_file_version_and_box():
    name = images.stored_name("thumbnail", BOX, "1:2:3")
    assert name.startswith("thumbnail-")
    assert name == images.stored_name("thumbnail", BOX, "1:2:3")
    assert name != images.stored_name("thumbnail", BOX, "1:2:4")
    assert name != images.stored_name("thumbnail", images.Box(100, 100), "1:2:3")


def test_a_shown_thumbnail_is_read_only_for_its_client_and_purpose():
    app = Flask(__name__)
    app.secret_key = "test"
    shown = images.Shown("a" * 32, "", "photo.jpg", "digest")
    token = images.sign_shown(app, shown)
    assert images.read_shown(app, token, "a" * 32, 60) == shown
    assert images.read_shown(app, token, "b" * 32, 60) is None
    assert images.read_shown(app, token, None, 60) is None
    assert images.read_shown(app, token + "x", "a" * 32, 60) is None
    from flask_dropzone._rules import signing

    other = signing.dumps(app, "delete", {"f": "", "n": "photo.jpg", "v": "digest"}, "a" * 32)
    assert images.read_shown(app, other, "a" * 32, 60) is None
