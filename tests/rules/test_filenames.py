import pytest

from flask_dropzone import safe_filename
from flask_dropzone._rules.filenames import MAX_NAME_BYTES


@pytest.mark.parametrize(
    "given, safe",
    [
        ("中文.png", "中文.png"),
        ("résumé final.pdf", "résumé final.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
        ("a\x00.png", "a.png"),
        ("a\u202egnp.exe", "agnp.exe"),  # right-to-left override dropped
        ("tab\there.txt", "tab here.txt"),
        ("CON.txt", "_CON.txt"),
        ("con", "_con"),
        ("lpt1.tar.gz", "_lpt1.tar.gz"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        # Windows ignores trailing dots and spaces of a device name, and has console devices.
        ("CON .txt", "_CON .txt"),
        ("con..txt", "_con..txt"),
        ("NUL . .tar.gz", "_NUL . .tar.gz"),
        ("CONIN$.txt", "_CONIN$.txt"),
        ("conout$", "_conout$"),
        ("COM¹.txt", "_COM¹.txt"),
        ("LPT³", "_LPT³"),
        ("COM10.txt", "COM10.txt"),
        (".htaccess", "htaccess"),
        ("..", "file"),
        ("", "file"),
        ("   ", "file"),
        ("name. . .", "name"),
        ('what?<are>:these|"*.txt', "whatarethese.txt"),
        ("x.png.html", "x.png.html"),
        ("README", "README"),
    ],
)
def test_safe_filename(given, safe):
    assert safe_filename(given) == safe


def test_long_names_are_bounded_and_keep_their_extension():
    name = safe_filename("a" * 300 + ".jpeg")
    assert name.endswith(".jpeg") and len(name.encode()) == MAX_NAME_BYTES


def test_long_unicode_names_are_cut_on_character_boundaries():
    name = safe_filename("漢" * 200 + ".txt")
    assert name.endswith(".txt") and len(name.encode()) <= MAX_NAME_BYTES
    name.encode().decode()  # still valid UTF-8


def test_a_long_extension_does_not_eat_the_name():
    name = safe_filename("photo." + "x" * 300)
    assert name.startswith("photo.") and len(name.encode()) == MAX_NAME_BYTES
