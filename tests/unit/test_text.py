from fota_tui.text import clean, shorten


def test_escape_sequences_and_controls_become_visible_symbols():
    hostile = "a\x1b[31mred\x1b]52;c;ZXZpbA==\x07\x00\r\n\x9b2J\x7f\u202eevil"
    shown = clean(hostile)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in shown)
    assert "\u202e" not in shown
    assert shown.startswith("a\u241b[31mred\u241b]52;c;ZXZpbA==\u2407\u2400")


def test_ordinary_text_is_untouched():
    for text in ("[bold red]not markup[/]", "水表-0007", "שלום", "沪A·D1234 🚚", "tab\tstop"):
        assert clean(text) == text.replace("\t", " ")


def test_shorten_caps_length():
    assert shorten("x" * 10_000, 20) == "x" * 19 + "…"
    assert shorten("short") == "short"
