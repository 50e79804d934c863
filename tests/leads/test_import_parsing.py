"""The pure side of lead imports: decoding, header mapping, row checks, in-file duplicates."""

import pytest

from app.leads.imports import parsing


def _csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


def test_gbk_with_chinese_headers_decodes_and_maps():
    content = _csv(
        "姓名,公司,电话,邮箱,来源,活动,地区,行业\n"
        "张三,北京星河科技有限公司,138 0013 8000,zhang@example.com,展会,2027春季展,北京,制造业\n",
        "gbk",
    )
    parsed = parsing.parse(content)
    assert parsed.encoding == "gb18030"
    assert set(parsed.columns) == {
        "name",
        "company_name",
        "phone",
        "email",
        "source",
        "campaign",
        "region",
        "industry",
    }
    (row,) = parsed.rows
    assert row.ok and row.line == 2
    assert row.values["name"] == "张三" and row.values["source"] == "exhibition"
    assert row.values["campaign"] == "2027春季展" and row.values["region"] == "北京"
    assert row.phone_key == "13800138000" and row.email_key == "zhang@example.com"
    assert row.company_key == "北京星河科技"


def test_utf8_with_bom_and_english_headers():
    content = b"\xef\xbb\xbf" + _csv("Name,Company Name,E-mail,Source\nAnn,Acme,ann@x.io,website\n")
    parsed = parsing.parse(content)
    assert parsed.encoding == "utf-8-sig"
    assert parsed.rows[0].values == {
        "name": "Ann",
        "company_name": "Acme",
        "email": "ann@x.io",
        "source": "website",
    }


def test_plain_utf8_and_the_mobile_column_wins_over_the_phone():
    parsed = parsing.parse(_csv("姓名,电话,手机,备注\n李四,010-12345678,13900001111,老客户介绍\n"))
    assert parsed.encoding == "utf-8"
    assert parsed.rows[0].values["phone"] == "13900001111"
    assert parsed.rows[0].values["note"] == "老客户介绍"


def test_bad_rows_carry_line_field_and_code():
    content = _csv(
        "姓名,邮箱,来源,电话\n"
        ",a@b.cn,展会,\n"  # line 2: no name
        "王五,not-an-email,展会,\n"  # line 3
        "赵六,z@b.cn,路边,\n"  # line 4: unknown source
        f"钱七,q@b.cn,官网,{'1' * 51}\n"  # line 5: phone too long
        "孙八,s@b.cn,,---\n"  # line 6: a phone without digits
        "周九,zhou@b.cn,其他,\n",  # line 7: fine ("其他" → other)
    )
    rows = parsing.parse(content).rows
    assert [(e["line"], e["field"], e["code"]) for r in rows for e in r.errors] == [
        (2, "name", "required"),
        (3, "email", "invalid_email"),
        (4, "source", "invalid_source"),
        (5, "phone", "too_long"),
        (6, "phone", "invalid_phone"),
    ]
    assert rows[-1].ok and rows[-1].values["source"] == "other"


def test_an_empty_source_is_other_and_blank_rows_are_skipped():
    rows = parsing.parse(_csv("name,source\nA,\n,\n\nB,Referral\n")).rows
    assert [(r.line, r.values["source"]) for r in rows] == [(2, "other"), (5, "referral")]


def test_duplicates_within_the_file_point_at_the_first_row():
    content = _csv(
        "姓名,公司,电话,邮箱\n"
        "甲,星河科技有限公司,13800000001,a@x.cn\n"
        "乙,别的公司,+86 138-0000-0001,b@x.cn\n"  # the same phone as line 2
        "丙,第三家,13800000003,A@X.CN\n"  # the same e-mail
        "丁,星河科技,13800000004,d@x.cn\n"  # the same company name (normalised)
        "戊,第五家,13800000005,e@x.cn\n"
    )
    rows = parsing.parse(content).rows
    assert [(r.line, [(e["field"], e["code"]) for e in r.errors]) for r in rows] == [
        (2, []),
        (3, [("phone", "duplicate")]),
        (4, [("email", "duplicate")]),
        (5, [("company_name", "duplicate")]),
        (6, []),
    ]
    assert "line 2" in rows[1].errors[0]["detail"]


def test_an_invalid_row_does_not_claim_its_keys():
    rows = parsing.parse(_csv("name,phone,email\n,13800000001,\nB,13800000001,\n")).rows
    assert not rows[0].ok and rows[1].ok


def test_quoted_fields_with_newlines_keep_the_starting_line():
    rows = parsing.parse(_csv('name,note\nA,"two\nlines"\nB,x\n')).rows
    assert [(r.line, r.values["note"]) for r in rows] == [(2, "two\r\nlines"), (4, "x")]


def test_control_characters_are_a_row_error():
    rows = parsing.parse(_csv("name,note\nA,bad\x07bell\n")).rows
    assert rows[0].errors[0]["code"] == "invalid_text"


def test_too_many_rows():
    content = _csv("name\n" + "".join(f"n{i}\n" for i in range(11)))
    with pytest.raises(parsing.TooManyRows):
        parsing.parse(content, max_rows=10)
    assert len(parsing.parse(content, max_rows=11).rows) == 11


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"phone,email\n1,a@b.cn\n", "name column"),
        (b"\x00\x01binary", "binary"),
        (b"\xef\xbb\xbfname\n\xff\xfe\n", "BOM"),
    ],
)
def test_unreadable_files(content: bytes, message: str):
    with pytest.raises(parsing.Unreadable, match=message):
        parsing.parse(content)
