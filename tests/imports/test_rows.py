"""Reading other software's CSV files: layout detection, column guessing, values."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from apps.crm.models import ClientStatus
from apps.imports.models import DateOrder
from apps.imports.reading import MAX_UPLOAD_BYTES, csv_layout_detect
from apps.imports.rows import (
    TARGETS,
    date_order_guess,
    date_parse,
    mapping_guess,
    mapping_problems,
    row_parse,
    status_parse,
    tags_parse,
)


class TestLayout:
    def test_comma_utf8(self, sample_bytes):
        layout = csv_layout_detect(sample_bytes)
        assert layout.encoding == "utf-8"
        assert layout.delimiter == ","
        assert layout.headers[:4] == ["Client ID", "First Name", "Last Name", "Email"]

    def test_semicolons_in_cp1252_from_excel(self):
        content = "Vorname;Nachname;E-Mail;Mobil\r\nJürgen;Müller;j@example.com;0151 2345\r\n"
        layout = csv_layout_detect(content.encode("cp1252"))
        assert layout.encoding == "cp1252"
        assert layout.delimiter == ";"
        assert layout.headers == ["Vorname", "Nachname", "E-Mail", "Mobil"]

    def test_utf8_with_bom_and_tabs(self):
        layout = csv_layout_detect("\ufeffFirst name\tEmail\nAnn\ta@example.com\n".encode())
        assert layout.encoding == "utf-8-sig"
        assert layout.delimiter == "\t"
        assert layout.headers == ["First name", "Email"]

    def test_utf16_unicode_text_from_excel(self):
        layout = csv_layout_detect("First name\tEmail\nZoë\tz@example.com\n".encode("utf-16"))
        assert (layout.encoding, layout.delimiter) == ("utf-16", "\t")

    def test_blank_and_duplicate_headers_get_names(self):
        layout = csv_layout_detect(b"Name,,Name\nAnn,x,y\n")
        assert layout.headers == ["Name", "Column 2", "Name (2)"]

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"", "empty"),
            (b"PK\x03\x04\x14\x00\x06\x00 workbook", "not a CSV file"),
            (b"%PDF-1.7 ...", "not a CSV file"),
            (b"name\x00email\x00\n", "not a CSV file"),
            (b"just one column\nAnn\n", "No columns found"),
            (b"First name,Email\n", "no clients"),
        ],
    )
    def test_what_is_not_a_csv_file_says_so(self, content, message):
        with pytest.raises(ValidationError) as excinfo:
            csv_layout_detect(content)
        assert message in excinfo.value.message_dict["file"][0]

    def test_the_size_limit_is_five_megabytes(self):
        assert MAX_UPLOAD_BYTES == 5 * 1024 * 1024


class TestMappingGuess:
    def test_common_spellings(self):
        headers = [
            "First Name",
            "lastname",
            "E-mail",
            "Mobile",
            "DOB",
            "Status",
            "Tags",
            "Joined",
            "Client ID",
            "Notes",
        ]
        assert mapping_guess(headers, TARGETS) == {
            "First Name": "first_name",
            "lastname": "last_name",
            "E-mail": "email",
            "Mobile": "phone",
            "DOB": "date_of_birth",
            "Status": "status",
            "Tags": "tags",
            "Joined": "joined_on",
        }

    def test_each_field_once(self):
        assert mapping_guess(["Mobile", "Phone"], TARGETS) == {"Mobile": "phone"}

    def test_health_columns_only_for_roles_that_may_record_them(self):
        without_health = [t for t in TARGETS if not t.health]
        assert mapping_guess(["Name", "Medical notes"], TARGETS)["Medical notes"] == "health_notes"
        assert mapping_guess(["Name", "Medical notes"], without_health) == {"Name": "full_name"}

    def test_problems_name_what_is_missing(self):
        problems = mapping_problems({"Notes": "goals"}, TARGETS)
        assert any("First name" in problem for problem in problems)
        assert any("Email or to Phone" in problem for problem in problems)
        problems = mapping_problems({"A": "email", "B": "email", "C": "full_name"}, TARGETS)
        assert problems == ["Two columns are mapped to Email; pick one."]


class TestValues:
    @pytest.mark.parametrize(
        ("text", "order", "expected"),
        [
            ("1990-12-31", DateOrder.DAY_FIRST, date(1990, 12, 31)),
            ("1990-12-31T00:00:00", DateOrder.MONTH_FIRST, date(1990, 12, 31)),
            ("31/12/1990", DateOrder.DAY_FIRST, date(1990, 12, 31)),
            ("12/31/1990", DateOrder.MONTH_FIRST, date(1990, 12, 31)),
            ("03/04/1990", DateOrder.DAY_FIRST, date(1990, 4, 3)),
            ("03/04/1990", DateOrder.MONTH_FIRST, date(1990, 3, 4)),
            ("31.12.85", DateOrder.DAY_FIRST, date(1985, 12, 31)),
            ("1/2/2003 12:00 AM", DateOrder.MONTH_FIRST, date(2003, 1, 2)),
            ("31 Dec 1990", DateOrder.DAY_FIRST, date(1990, 12, 31)),
            ("December 31, 1990", DateOrder.DAY_FIRST, date(1990, 12, 31)),
        ],
    )
    def test_dates(self, text, order, expected):
        assert date_parse(text, order) == expected

    @pytest.mark.parametrize("text", ["02/30/1991", "13/13/2000", "yesterday", "1990"])
    def test_not_dates(self, text):
        with pytest.raises(ValueError, match=r".*"):
            date_parse(text, DateOrder.MONTH_FIRST)

    def test_date_order_guess(self):
        assert date_order_guess(["03/04/1990", "12/25/1988"]) == DateOrder.MONTH_FIRST
        assert date_order_guess(["25/12/1988", "03/04/1990"]) == DateOrder.DAY_FIRST
        assert date_order_guess(["1988-12-25"]) == DateOrder.YEAR_FIRST
        assert date_order_guess(["03/04/1990"]) == DateOrder.DAY_FIRST

    @pytest.mark.parametrize(
        ("text", "status"),
        [
            ("Active", ClientStatus.ACTIVE),
            ("Suspended", ClientStatus.PAUSED),
            ("On hold", ClientStatus.PAUSED),
            ("Inactive", ClientStatus.CHURNED),
            ("Cancelled", ClientStatus.CHURNED),
            ("Free trial", ClientStatus.TRIAL),
            ("Prospect", ClientStatus.LEAD),
        ],
    )
    def test_statuses(self, text, status):
        assert status_parse(text) == status

    def test_tags(self):
        assert tags_parse("VIP, Morning; yoga|VIP") == ["morning", "vip", "yoga"]


class TestRow:
    headers = ["Name", "E-mail", "Phone", "DOB", "Status"]
    mapping = {
        "Name": "full_name",
        "E-mail": "email",
        "Phone": "phone",
        "DOB": "date_of_birth",
        "Status": "status",
    }

    def parse(self, cells):  # type: ignore[no-untyped-def]
        return row_parse(
            7, cells, headers=self.headers, mapping=self.mapping, date_order=DateOrder.DAY_FIRST
        )

    def test_a_good_row(self):
        row = self.parse(["García, José", " Jose@Example.com ", "'+34 600 000 000", "", "Active"])
        assert row.errors == {}
        assert row.fields == {
            "first_name": "José",
            "last_name": "García",
            "email": "jose@example.com",
            # Our own export defused the + (spreadsheets run it as a formula); it comes back.
            "phone": "+34600000000",  # and is stored as every number is, in E.164
            "status": ClientStatus.ACTIVE,
        }

    def test_errors_by_field(self):
        row = self.parse(["", "nope@", "", "31/02/1990", "Gold"])
        assert row.number == 7
        assert set(row.errors) == {"first_name", "email", "date_of_birth", "status"}
        assert "not a date" in row.errors["date_of_birth"][0]
        assert "Gold" in row.errors["status"][0]

    def test_no_way_to_recognise_the_person(self):
        row = self.parse(["Ann Able", "", "", "", ""])
        assert "email or a phone number" in row.errors["email"][0]

    def test_cells_beyond_the_header_mean_a_broken_row(self):
        row = self.parse(["Ann", "Able", "a@example.com", "", "", "Active"])
        assert "more cells than the header" in row.errors[""][0]
