"""User-supplied text on the pages: markdown, HTML and ``javascript:`` from a file, a sheet name or
a display name are shown as the characters they are, never as links, images or markup."""

from __future__ import annotations

import pytest
from test_access_pages import served  # noqa: F401  (the fixture: demo store copy, test accounts)
from test_pages import demo_value, log_in, on_page, shown, texts

from devtools.hostile_files import raw_xlsx, sheet_xml
from pages._markdown import plain

HOSTILE = ["[点此查看说明](https://evil.example/x)", "![b](http://evil.example/x.png)", "<img src=x onerror=alert(1)>",
           "javascript:alert(1)", ":red[假] $x^2$", "**粗体** `代码` ~~删~~", "# 标题", "1. 列表", "- 列表"]


def unescaped(markdown: str) -> str:
    """The characters of ``markdown`` that are not escaped by a backslash before them."""
    out, escaped = [], False
    for char in markdown:
        if not escaped and char != "\\":
            out.append(char)
        escaped = not escaped and char == "\\"
    return "".join(out)


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_escapes_every_character_that_makes_markdown(text):
    shown_as = plain(text)
    # nothing left that opens a link, an image, markup, code, a directive or LaTeX
    assert not set(unescaped(shown_as)) & set("[]()!<>*`~_:$&|\\")
    # and no line that starts a heading or a list
    assert not unescaped(shown_as).lstrip().startswith(("#", "-", "1.", ">"))
    # what a reader sees: the backslashes go, the text is as written
    assert shown_as.replace("\\", "") == text.replace("\\", "")


def test_plain_keeps_text_on_one_line():
    assert plain("甲\n[乙](http://e)") == "甲 \\[乙\\]\\(http\\://e\\)"


def hostile_workbook(jincheng: float) -> bytes:
    rows = [(1, [(1, "![b](http://evil.example/x.png) 2026年10月 <b>晋城</b> javascript:alert(1)")]),
            (2, [(1, "地区"), (2, "有效发明专利（件）")]), (3, [(1, "晋城"), (2, f"{jincheng + 2:.0f}")])]
    return raw_xlsx(sheet_xml(rows), sheet_name="[点此查看说明](https://evil.example/x)")


def test_a_sheet_name_title_and_file_name_from_a_file_are_text_on_upload_and_history(served):  # noqa: F811
    app, store, _ = served
    log_in(app, "admin")
    on_page(app, "upload")
    name = "[报表](javascript:alert(1)).xlsx"
    app.file_uploader[0].upload(name, hostile_workbook(demo_value(store, "140500", "invention_patents")),
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    shown(app.run())
    caption = next(c for c in texts(app.caption) if c.startswith("Excel 工作簿"))
    assert "工作表「\\[点此查看说明\\]\\(https\\://evil.example/x\\)」" in caption
    assert "标题「\\!\\[b\\]\\(http\\://evil.example/x.png\\) 2026年10月 \\<b\\>晋城\\</b\\> javascript\\:alert\\(1\\)」" in caption
    shown([b for b in app.button if b.label.startswith("确认导入")][0].click().run())
    assert texts(app.success)[0].startswith("已导入 \\[报表\\]\\(javascript\\:alert\\(1\\)\\).xlsx：批次 3")
    on_page(app, "history")
    shown(app.selectbox(key="history_batch").set_value(3).run())
    assert any("工作表「\\[点此查看说明\\]\\(https\\://evil.example/x\\)」" in c for c in texts(app.caption))
