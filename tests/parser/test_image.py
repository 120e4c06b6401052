"""`Image.read`: exact reads or typed errors, whatever is asked and whatever the file does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ext4guard.parser.errors import ImageIOError, TruncatedImage, Where
from ext4guard.parser.image import MAX_READ, Image


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    path = tmp_path / "img"
    path.write_bytes(bytes(range(256)) * 16)  # 4096 bytes
    return path


def test_reads_are_exact(image_file: Path) -> None:
    data = image_file.read_bytes()
    with Image.open(image_file) as image:
        assert image.size == 4096
        assert image.read(0, 4096) == data
        assert image.read(4000, 96) == data[4000:]
        assert image.read(4096, 0) == b""


@pytest.mark.parametrize(
    ("offset", "length", "error"),
    [
        (-1, 1, ImageIOError),
        (0, -1, ImageIOError),
        (0, MAX_READ + 1, ImageIOError),
        (4000, 97, TruncatedImage),
        (4097, 0, TruncatedImage),
        (1 << 62, 1, TruncatedImage),
    ],
)
def test_bad_ranges_are_typed_errors(
    image_file: Path, offset: int, length: int, error: type[Exception]
) -> None:
    where = Where(block=7)
    with Image.open(image_file) as image, pytest.raises(error) as caught:
        image.read(offset, length, where)
    assert caught.value.where is where


def test_a_file_that_shrinks_under_the_reader_is_a_truncation(image_file: Path) -> None:
    with Image.open(image_file) as image:
        os.truncate(image_file, 1000)  # size was taken at open: 4096
        with pytest.raises(TruncatedImage):
            image.read(512, 1024)


def test_not_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImageIOError):
        Image.open(tmp_path)  # a directory
    with pytest.raises(ImageIOError):
        Image.open(tmp_path / "missing")
