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


def test_json_text_is_equal_json_without_raw_terminal_controls():
    import json

    from fota_tui.text import json_text

    value = {"name": "a\x7fb\x9b2J\u202e水表", "n": 1}
    text = json_text(value)
    assert json.loads(text) == value
    assert not any(0x7F <= ord(ch) < 0xA0 or ch == "\u202e" for ch in text)


def test_fit_pads_and_cuts_by_terminal_cells():
    from fota_tui.text import cell_width, fit

    assert cell_width("水表") == 4 and cell_width("e\u0301") == 1
    for text in ("水表-0007 🚚", "plain", "x" * 50, "\x1b[31mred"):
        assert cell_width(fit(text, 10)) == 10
    assert fit("水表水表水表", 5) == "水表…" and fit("水表水表水表", 6) == "水表… "


def test_keep_newlines_keeps_only_line_feeds():
    assert clean("a\nb\r\x1b", keep_newlines=True) == "a\nb\u240d\u241b"
