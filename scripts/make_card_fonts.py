"""Make the fonts that card images are drawn with: subsets of DejaVu Sans (Latin, Greek,
Cyrillic, Hebrew, Arabic, punctuation and symbols) and Noto Sans CJK SC Bold (the common
Chinese, Japanese and Korean characters), written to templates/fonts/.

Cards never load the machine's fonts, so that any machine draws the same bytes; these
files are what they draw with. Run again only to change the subsets (it needs fontTools
and Debian's fonts-dejavu-core and fonts-noto-cjk):

    .venv/bin/python -m pip install fonttools
    .venv/bin/python scripts/make_card_fonts.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

OUT = Path(__file__).resolve().parents[1] / "templates" / "fonts"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")

LATIN_AND_MORE = [
    (0x0020, 0x024F),  # Basic Latin, Latin-1, Latin Extended-A and -B
    (0x0250, 0x02FF),  # IPA, spacing modifiers
    (0x0300, 0x036F),  # combining diacritics
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x052F),  # Cyrillic
    (0x0590, 0x05FF),  # Hebrew
    (0x0600, 0x06FF),  # Arabic
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # currency symbols
    (0x2100, 0x214F),  # letterlike symbols
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators
    (0x2500, 0x25FF),  # box drawing, blocks, geometric shapes
    (0x2600, 0x27BF),  # miscellaneous symbols, dingbats
    (0xFB50, 0xFDFF),  # Arabic presentation forms-A
    (0xFE70, 0xFEFF),  # Arabic presentation forms-B
    (0xFFFD, 0xFFFD),  # the replacement character
]


def _codec_chars(codec: str, rows: range) -> set[int]:
    """The characters of rows of a two-byte EUC codec (GB 2312, JIS X 0208, KS X 1001)."""
    found: set[int] = set()
    for row in rows:
        for cell in range(0xA1, 0xFF):
            try:
                text = bytes([row, cell]).decode(codec)
            except UnicodeDecodeError:
                continue
            found.update(ord(c) for c in text)
    return found


def cjk_chars() -> set[int]:
    """The common CJK characters: GB 2312's first level of hanzi, JIS X 0208's first level
    of kanji, KS X 1001's Hangul syllables, their punctuation and symbols, kana, and
    the fullwidth forms."""
    chars = _codec_chars("gb2312", range(0xA1, 0xAA))  # symbols, punctuation
    chars |= _codec_chars("gb2312", range(0xB0, 0xD8))  # level 1 hanzi (3,755)
    chars |= _codec_chars("euc_jp", range(0xA1, 0xA9))  # symbols, kana
    chars |= _codec_chars("euc_jp", range(0xB0, 0xD0))  # level 1 kanji (2,965)
    chars |= _codec_chars("euc_kr", range(0xB0, 0xC9))  # Hangul syllables (2,350)
    chars |= set(range(0x3000, 0x3100))  # CJK punctuation, hiragana, katakana
    chars |= set(range(0xFF00, 0xFFF0))  # fullwidth and halfwidth forms
    return chars


def _options() -> subset.Options:
    options = subset.Options()
    options.layout_features = ["*"]  # shaping (Arabic joining, ligatures, kerning)
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False  # cards draw at one size, unhinted
    options.desubroutinize = False
    return options


def make(font: TTFont, chars: set[int], out: Path) -> None:
    subsetter = subset.Subsetter(_options())
    subsetter.populate(unicodes=chars)
    subsetter.subset(font)
    font.save(out)
    print(f"{out.name}: {out.stat().st_size:,} bytes, {len(chars):,} code points asked")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    latin = {c for lo, hi in LATIN_AND_MORE for c in range(lo, hi + 1)}
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        make(TTFont(DEJAVU / name), latin, OUT / name)
    collection = TTCollection(NOTO_CJK)
    sc = next(f for f in collection.fonts if "SC" in f["name"].getDebugName(1))
    make(sc, cjk_chars(), OUT / "NotoSansCJKsc-Bold.otf")


if __name__ == "__main__":
    main()
