"""The first sync of Odoo's default chart to the sandbox's default companies, provider side:
the chart an accountant maps from (groups, rates, applies_to, items, currency, country), tax
totals as Odoo computed them, lines without an item, names the providers refuse, and the
providers' refusals in plain words — through python-quickbooks and xero-python."""
import json
from datetime import date
from decimal import Decimal as D

import pytest

from accounting_sync.providers import (
    QuickBooksOnlineAdapter, XeroAdapter, item_required, item_required_kinds,
)
from accounting_sync.providers.quickbooks_online import payloads as qbo_payloads
from accounting_sync.providers.xero import payloads as xero_payloads
from accounting_sync.providers.answers import distinct
from accounting_sync.providers.documents import (
    ACCOUNT_GROUPS, TAX_APPLIES_TO, Allocation, Document, Line, Party, Payment, Product, Ref,
)
from accounting_sync.providers.quickbooks_online.lookups import plain_message
from accounting_sync.providers.sync_rules import fit
from accounting_sync.providers.xero.lookups import refused_message
from test_sync_adapters import REALM, UK, qbo, xero  # noqa: F401  (fixtures)

D0 = D("0")


def party(name, kind="customer", email=None, key=None, company=True):
    return Party(key=key or "%s-%s" % (kind, name), kind=kind, name=name, email=email,
                 company_name=name if company else None)


def document(kind, number, party_id, lines, tax, currency, tax_code=None):
    untaxed = sum((l.amount for l in lines), D0)
    return Document(key="doc-" + number, kind=kind, number=number, date=date(2026, 1, 15),
                    party=Ref(party_id), currency=currency, lines=lines,
                    amount_untaxed=untaxed, amount_tax=tax, amount_total=untaxed + tax,
                    due_date=date(2026, 2, 14), tax_code=tax_code)


def fifteen(amount):
    """Odoo's 15 % tax of ``amount``."""
    return (amount * D("0.15")).quantize(D("0.01"))


# == the capability ===============================================================================

def test_which_kinds_need_an_item():
    assert QuickBooksOnlineAdapter.ITEM_REQUIRED_KINDS == ("invoice", "credit_note")
    assert XeroAdapter.ITEM_REQUIRED_KINDS == ()
    assert item_required_kinds("quickbooks_online") == ("invoice", "credit_note")
    assert item_required("quickbooks_online", "invoice")
    assert item_required("quickbooks_online", "credit_note")
    assert not item_required("quickbooks_online", "bill")
    assert not item_required("quickbooks_online", "vendor_credit")
    assert not any(item_required("xero", kind) for kind in ("invoice", "credit_note", "bill"))
    assert QuickBooksOnlineAdapter.item_required("invoice")
    assert not XeroAdapter.item_required("invoice")


# == the chart ====================================================================================

def test_qbo_chart_groups_rates_items_currency_and_country(qbo):
    sb = qbo.sb
    for name, kind, classification in (("Interest Earned", "Other Income", "Revenue"),
                                       ("Bank Loan", "Long Term Liability", "Liability"),
                                       ("Opening Balance Equity", "Equity", "Equity"),
                                       ("Furniture", "Fixed Asset", "Asset"),
                                       ("Sales Tax Payable", "Other Current Liability",
                                        "Liability"),
                                       ("Odd One", "Something New", "Equity")):
        sb.seed("qbo", "Account", {"Name": name, "AccountType": kind,
                                   "Classification": classification,
                                   "CurrencyRef": {"value": "USD"}}, REALM)
    rate = sb.seed("qbo", "TaxRate", {"Name": "Purchase VAT", "RateValue": 5}, REALM)
    sb.seed("qbo", "TaxCode", {"Name": "PVAT", "Taxable": True, "SalesTaxRateList": {
        "TaxRateDetail": []}, "PurchaseTaxRateList": {"TaxRateDetail": [
            {"TaxRateRef": {"value": rate["Id"]}}]}}, REALM)
    item = qbo.ok(Product(key="p-1", name="Consulting", code="CONS", sale_price=D("120"),
                          income_account=Ref(qbo.accounts["Services"])))
    before = sb.api_calls("qbo", REALM)
    chart = qbo.adapter.fetch_chart(qbo.tokens, REALM)
    assert sb.api_calls("qbo", REALM) - before == 6  # one query per list
    groups = {a.name: a.group for a in chart.accounts}
    assert groups == {
        "Sales of Product Income": "income", "Services": "income",
        "Cost of Goods Sold": "cost_of_sales", "Office Supplies": "expense",
        "Checking": "bank", "Savings": "bank", "Accounts Receivable (A/R)": "receivable",
        "Undeposited Funds": "current_asset", "Accounts Payable (A/P)": "payable",
        "Interest Earned": "other_income", "Bank Loan": "long_term_liability",
        "Opening Balance Equity": "equity", "Furniture": "fixed_asset",
        "Sales Tax Payable": "current_liability", "Odd One": "equity"}
    assert set(groups.values()) <= set(ACCOUNT_GROUPS)
    accounts = {a.name: a for a in chart.accounts}
    assert accounts["Checking"].is_bank and accounts["Undeposited Funds"].is_bank
    assert not accounts["Services"].is_bank
    assert {a.currency for a in chart.accounts} == {"USD"}
    assert accounts["Checking"].subtype == "Checking" and accounts["Checking"].code == "1000"
    taxes = {t.id: t for t in chart.taxes}
    assert (taxes["TAX"].rate, taxes["TAX"].applies_to, taxes["TAX"].exempt) == (
        D("8.25"), "sales", False)
    assert (taxes["NON"].rate, taxes["NON"].applies_to, taxes["NON"].exempt) == (
        D0, "both", True)
    assert taxes["2"].rate == D("8.25") and taxes["2"].applies_to == "sales"
    vat = next(t for t in chart.taxes if t.name == "PVAT")
    assert (vat.rate, vat.purchase_rate, vat.applies_to, vat.exempt) == (
        D("5"), D("5"), "purchases", False)
    assert {t.applies_to for t in chart.taxes} <= set(TAX_APPLIES_TO)
    [remote_item] = chart.items
    assert (remote_item.id, remote_item.name, remote_item.code, remote_item.type) == (
        item.remote_id, "Consulting", "CONS", "Service")
    assert remote_item.active and remote_item.sale_price == D("120")
    assert remote_item.income_account == qbo.accounts["Services"]
    assert (chart.currency, chart.country, chart.default_tax_code) == ("USD", "US", "2")


def test_xero_chart_groups_rates_items_currency_and_country(xero):
    sb = xero.sb
    sb.seed("xero", "Accounts", {"Code": "880", "Name": "Owner Funds", "Type": "EQUITY",
                                 "Class": "EQUITY"}, UK)
    sb.seed("xero", "Accounts", {"Code": "900", "Name": "Loan", "Type": "TERMLIAB",
                                 "Class": "LIABILITY"}, UK)
    sb.seed("xero", "Accounts", {"Code": "270", "Name": "Interest Income",
                                 "Type": "OTHERINCOME", "Class": "REVENUE"}, UK)
    sb.seed("xero", "TaxRates", {"TaxType": "TAX001", "Name": "Import VAT",
                                 "EffectiveRate": 5, "ReportTaxType": "GSTONIMPORTS"}, UK)
    item = xero.ok(Product(key="p-1", name="Consulting", code="CONS", sale_price=D("120"),
                           income_account=Ref("200"), expense_account=Ref("429")))
    before = sb.api_calls("xero", UK)
    chart = xero.adapter.fetch_chart(xero.tokens, UK)
    assert sb.api_calls("xero", UK) - before == 4
    groups = {a.id: a.group for a in chart.accounts}
    assert groups == {"200": "income", "260": "income", "310": "cost_of_sales",
                      "429": "expense", "090": "bank", "610": "receivable", "800": "payable",
                      "880": "equity", "900": "long_term_liability", "270": "other_income"}
    accounts = {a.id: a for a in chart.accounts}
    assert accounts["090"].is_bank and accounts["090"].currency == "GBP"
    assert accounts["610"].subtype == "DEBTORS" and accounts["200"].currency is None
    taxes = {t.id: t for t in chart.taxes}
    assert (taxes["OUTPUT2"].rate, taxes["OUTPUT2"].applies_to, taxes["OUTPUT2"].exempt) == (
        D("20"), "sales", False)
    assert (taxes["INPUT2"].rate, taxes["INPUT2"].applies_to) == (D("20"), "purchases")
    assert (taxes["NONE"].rate, taxes["NONE"].applies_to, taxes["NONE"].exempt) == (
        D0, "both", True)
    assert taxes["TAX001"].applies_to == "purchases"  # from its ReportTaxType
    [remote_item] = chart.items
    assert (remote_item.id, remote_item.code, remote_item.name, remote_item.type) == (
        item.remote_id, "CONS", "Consulting", "NonInventory")
    assert (remote_item.income_account, remote_item.expense_account) == ("200", "429")
    assert remote_item.sale_price == D("120")
    assert (chart.currency, chart.country, chart.default_tax_code) == ("GBP", "GB", None)


# == tax amounts as Odoo computed them ============================================================

def test_qbo_documents_keep_odoos_15_percent_tax_mapped_to_an_8_25_percent_code(qbo):
    """Odoo's 15 % taxes mapped to QBO's TAX (8.25 %): every remote total is Odoo's."""
    customer = qbo.ok(party("Acme Inc")).remote_id
    vendor = qbo.ok(party("Paper Co", "vendor")).remote_id
    item = qbo.ok(Product(key="p-1", name="Desk", code="DSK", sale_price=D("100"),
                          service=False,
                          income_account=Ref(qbo.accounts["Sales of Product Income"])))
    chart = qbo.adapter.fetch_chart(qbo.tokens, REALM)
    sales, expense = qbo.accounts["Sales of Product Income"], qbo.accounts["Office Supplies"]

    def lines(item_ref, account):
        return [Line("Desk", D("3"), D("100"), D("300.00"), Ref(account), tax=Ref("TAX"),
                     tax_amount=fifteen(D("300")), item=item_ref),
                Line("Chair", D("1"), D("33.33"), D("33.33"), Ref(account), tax=Ref("TAX"),
                     tax_amount=fifteen(D("33.33")), item=item_ref)]
    tax = fifteen(D("300")) + fifteen(D("33.33"))
    records = [
        ("Invoice", document("invoice", "INV/2026/00001", customer,
                             lines(Ref(item.remote_id), sales), tax, "USD")),
        ("CreditMemo", document("credit_note", "RINV/2026/00001", customer,
                                lines(Ref(item.remote_id), sales), tax, "USD",
                                tax_code=Ref(chart.default_tax_code))),
        ("Bill", document("bill", "BILL/2026/00001", vendor, lines(None, expense), tax,
                          "USD")),
        ("VendorCredit", document("vendor_credit", "RBILL/2026/00001", vendor,
                                  lines(None, expense), tax, "USD")),
    ]
    for entity, record in records:
        result = qbo.ok(record)
        remote = qbo.record(entity, result.remote_id)
        assert D(str(remote["TotalAmt"])) == record.amount_total == D("383.33"), entity
        detail = remote["TxnTaxDetail"]
        assert D(str(detail["TotalTax"])) == record.amount_tax == D("50.00"), entity
        [tax_line] = detail["TaxLine"]  # one rate: the whole override on it
        assert D(str(tax_line["Amount"])) == D("50.00")
        # QBO would have charged 8.25 % of 333.33 = 27.50: the override is noted.
        assert D(str(tax_line["TaxLineDetail"]["OverrideDeltaAmount"])) == D("22.50")
    credit = qbo.records("CreditMemo")[0]
    assert credit["TxnTaxDetail"]["TxnTaxCodeRef"] == {"value": "2"}


def test_qbo_tax_override_is_prorated_over_a_group_of_rates(qbo):
    """The sandbox prorates a TotalTax sent over the rates of a group, as QBO does."""
    sb = qbo.sb
    city = sb.seed("qbo", "TaxRate", {"Name": "City tax", "RateValue": 1.75}, REALM)
    group = sb.seed("qbo", "TaxCode", {"Name": "State + City", "Taxable": True,
                                       "TaxGroup": True, "SalesTaxRateList": {"TaxRateDetail": [
                                           {"TaxRateRef": {"value": "1"}},
                                           {"TaxRateRef": {"value": city["Id"]}}]}}, REALM)
    customer = qbo.ok(party("Acme Inc")).remote_id
    item = qbo.ok(Product(key="p-1", name="Desk", income_account=Ref(qbo.accounts["Services"])))
    invoice = document("invoice", "INV/1", customer, [
        Line("Desk", D("1"), D("200"), D("200.00"), Ref(qbo.accounts["Services"]),
             tax=Ref("TAX"), tax_amount=D("30.00"), item=Ref(item.remote_id))], D("30.00"),
        "USD", tax_code=Ref(group["Id"]))
    remote = qbo.record("Invoice", qbo.ok(invoice).remote_id)
    assert D(str(remote["TotalAmt"])) == D("230.00")
    amounts = [D(str(l["Amount"])) for l in remote["TxnTaxDetail"]["TaxLine"]]
    assert amounts == [D("24.75"), D("5.25")]  # 30 × 8.25/10 and the rest
    assert sum(amounts) == D("30.00")


# == lines without an item =========================================================================

def test_qbo_bill_and_vendor_credit_lines_without_item_are_account_based(qbo):
    vendor = qbo.ok(party("Paper Co", "vendor")).remote_id
    line = Line("Paper", D("2"), D("40"), D("80.00"), Ref(qbo.accounts["Office Supplies"]),
                tax=Ref("NON"))
    for kind, entity in (("bill", "Bill"), ("vendor_credit", "VendorCredit")):
        record = document(kind, "%s/1" % kind.upper(), vendor, [line], D0, "USD")
        remote = qbo.record(entity, qbo.ok(record).remote_id)
        [sent] = remote["Line"]
        assert sent["DetailType"] == "AccountBasedExpenseLineDetail"
        assert sent["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] == \
            qbo.accounts["Office Supplies"]
        assert sent["AccountBasedExpenseLineDetail"]["TaxCodeRef"] == {"value": "NON"}
        assert D(str(remote["TotalAmt"])) == D("80.00")
    # QBO's own account rules for such lines: not to Accounts Payable.
    payable = document("bill", "BILL/2", vendor, [Line(
        "Oops", D("1"), D("10"), D("10.00"), Ref(qbo.accounts["Accounts Payable (A/P)"]))],
        D0, "USD")
    [refused] = qbo.push(payable)
    assert not refused.ok and refused.error.code == "refused_account_type"
    assert refused.error.provider_code == "6000"
    assert "Accounts Payable" in refused.error.message
    assert "Map the Odoo account" in refused.error.message


def test_qbo_sales_line_without_item_fails_before_any_call(qbo):
    customer = qbo.ok(party("Acme Inc")).remote_id
    before = qbo.sb.api_calls("qbo", REALM)
    invoice = document("invoice", "INV/1", customer, [
        Line("Consulting", D("1"), D("100"), D("100.00"), Ref(qbo.accounts["Services"]))],
        D0, "USD")
    [result] = qbo.push(invoice)
    assert not result.ok and result.error.code == "item_required"
    assert result.error.provider_code == "payload"
    assert result.error.params == {"provider": "QuickBooks Online", "noun": "invoice",
                                   "line": "Consulting"}
    assert result.error.message == (
        "QuickBooks Online needs a product on every invoice line, and line “Consulting” has "
        "none: set a product on the line, or a Default Product on the connection.")
    assert qbo.sb.api_calls("qbo", REALM) == before
    assert qbo.records("Invoice") == []


def test_xero_documents_without_item_codes_are_accepted(xero):
    customer = xero.ok(party("Acme Ltd")).remote_id
    supplier = xero.ok(party("Paper Co", "vendor")).remote_id
    for kind, contact, account, tax, resource in (
            ("invoice", customer, "200", "OUTPUT2", "Invoices"),
            ("credit_note", customer, "200", "OUTPUT2", "CreditNotes"),
            ("bill", supplier, "429", "INPUT2", "Invoices"),
            ("vendor_credit", supplier, "429", "INPUT2", "CreditNotes")):
        record = document(kind, "%s/1" % kind.upper(), contact, [
            Line("Work", D("2"), D("50"), D("100.00"), Ref(account), tax=Ref(tax),
                 tax_amount=fifteen(D("100")))], fifteen(D("100")), "GBP")
        remote = xero.record(resource, xero.ok(record).remote_id)
        [sent] = remote["LineItems"]
        assert "ItemCode" not in sent and sent["AccountCode"] == account
        # Odoo's 15 % on a 20 % Xero rate: the line's TaxAmount is Odoo's.
        assert D(str(remote["Total"])) == record.amount_total == D("115.00")
    # Xero's own account rules: an invoice line does not post to a bank account.
    bank = document("invoice", "INV/2", customer, [
        Line("Oops", D("1"), D("10"), D("10.00"), Ref("090"))], D0, "GBP")
    [refused] = xero.push(bank)
    assert not refused.ok
    assert "Account code '090' is not a valid code for this document" in refused.error.message
    assert "Map the Odoo account" in refused.error.message


# == names the providers refuse ====================================================================

def test_qbo_a_name_with_a_colon_is_sent_without_it_and_linked_again(qbo):
    created = qbo.ok(party("Wayne Enterprises: Gotham", email="ap@wayne.test"))
    remote = qbo.record("Customer", created.remote_id)
    assert remote["DisplayName"] == "Wayne Enterprises - Gotham"
    assert remote["CompanyName"] == "Wayne Enterprises: Gotham"  # the Odoo name, kept
    again = qbo.ok(party("Wayne Enterprises: Gotham", email="ap@wayne.test", key="again"))
    assert again.linked_existing and again.remote_id == created.remote_id
    assert len(qbo.records("Customer")) == 1
    person = qbo.ok(party("Bruce:Wayne", company=False))
    assert qbo.record("Customer", person.remote_id)["Notes"] == "Name in Odoo: Bruce:Wayne"
    item = qbo.ok(Product(key="p-1", name="Parts: Bolts", income_account=Ref(
        qbo.accounts["Services"])))
    assert qbo.record("Item", item.remote_id)["Name"] == "Parts - Bolts"
    assert qbo.ok(Product(key="p-2", name="Parts: Bolts")).remote_id == item.remote_id
    # The vendor of the same name clashes with the customer (QBO keeps DisplayName unique
    # across both): the message names it as QBO has it.
    [vendor] = qbo.push(party("Wayne Enterprises: Gotham", "vendor"))
    assert not vendor.ok and vendor.error.code == "name_taken"
    assert vendor.error.provider_code == "6240"
    assert "“Wayne Enterprises - Gotham (Vendor)”" in vendor.error.message


def test_qbo_sandbox_refuses_a_colon_and_too_long_names_as_qbo_does(qbo):
    with pytest.raises(ValueError, match="2040 Invalid String"):
        qbo.sb.seed("qbo", "Customer", {"DisplayName": "Parent:Child"}, REALM)
    with pytest.raises(ValueError, match="2050 .*Max:100 supported. Supplied length:101"):
        qbo.sb.seed("qbo", "Vendor", {"DisplayName": "V" * 101}, REALM)
    with pytest.raises(ValueError, match="2050"):
        qbo.sb.seed("qbo", "Item", {"Name": "I" * 101, "IncomeAccountRef": {"value": "1"}},
                    REALM)
    assert qbo.sb.seed("qbo", "Customer", {"DisplayName": "C" * 100}, REALM)["Id"]


def test_qbo_refusal_of_a_colon_reads_once(qbo, monkeypatch):
    """Sent as it is (the rule switched off), the colon gets QBO's 2040, said once."""
    monkeypatch.setattr(qbo_payloads, "display_name", lambda name: name)
    [result] = qbo.push(party("Parent:Child"))
    assert not result.ok and result.error.code == "refused_colon"
    assert result.error.provider_code == "2040"
    message = result.error.message
    assert message.startswith("QuickBooks Online refused the customer Parent:Child: Invalid "
                              "String: DisplayName cannot contain a colon")
    assert message.count("Invalid String") == 1
    assert "remove it from the Odoo record" in message


def test_long_names_are_shortened_unique_and_linked_again_in_qbo(qbo):
    stem = "Consolidated Intercontinental Holdings " * 3  # 117 characters
    first, second = (party(stem + tail) for tail in ("North", "South"))
    created = qbo.ok(first, second)
    names = [qbo.record("Customer", r.remote_id)["DisplayName"] for r in created]
    assert all(len(n) == 100 for n in names) and names[0] != names[1]
    assert names[0] == qbo_payloads.display_name(first.name)  # deterministic
    assert names[0].startswith(stem[:90]) and "~" in names[0]
    again = qbo.ok(party(first.name, key="again-1"), party(second.name, key="again-2"))
    assert [r.remote_id for r in again] == [r.remote_id for r in created]
    assert all(r.linked_existing for r in again)
    assert len(qbo.records("Customer")) == 2
    product = qbo.ok(Product(key="p-1", name="Widget " * 20, code="SKU-" + "9" * 120,
                             income_account=Ref(qbo.accounts["Services"])))
    remote = qbo.record("Item", product.remote_id)
    assert len(remote["Name"]) == 100 and len(remote["Sku"]) == 100
    assert qbo.ok(Product(key="p-2", name="Widget " * 20,
                          code="SKU-" + "9" * 120)).remote_id == product.remote_id


def test_long_names_and_codes_are_shortened_unique_and_linked_again_in_xero(xero):
    stem = "Consolidated Intercontinental Holdings and Partners " * 6  # 312 characters
    created = xero.ok(party(stem + "North"), party(stem + "South"))
    names = [xero.record("Contacts", r.remote_id)["Name"] for r in created]
    assert all(len(n) == 255 for n in names) and names[0] != names[1]
    again = xero.ok(party(stem + "North", key="again"))
    assert again.linked_existing and again.remote_id == created[0].remote_id
    products = [Product(key="p-%d" % n, name="Ergonomic standing desk, solid oak, %s" % size,
                        code="FURNITURE-DESK-STANDING-OAK-%s" % size)
                for n, size in enumerate(("LARGE", "SMALL"))]
    items = xero.ok(*products)
    remote = [xero.record("Items", r.remote_id) for r in items]
    codes, item_names = [r["Code"] for r in remote], [r["Name"] for r in remote]
    assert all(len(c) == 30 for c in codes) and codes[0] != codes[1]
    assert all(len(n) <= 50 for n in item_names) and item_names[0] != item_names[1]
    assert codes[0] == xero_payloads.item_code(products[0])
    relinked = xero.ok(Product(key="again", name=products[1].name, code=products[1].code))
    assert relinked.linked_existing and relinked.remote_id == items[1].remote_id
    assert len(xero.records("Items")) == 2


def test_xero_sandbox_refuses_too_long_names_as_xero_does(xero):
    with pytest.raises(ValueError, match="longer than 255"):
        xero.sb.seed("xero", "Contacts", {"Name": "C" * 256}, UK)
    with pytest.raises(ValueError, match="longer than 30"):
        xero.sb.seed("xero", "Items", {"Code": "X" * 31}, UK)
    with pytest.raises(ValueError, match="longer than 50"):
        xero.sb.seed("xero", "Items", {"Code": "X", "Name": "N" * 51}, UK)


def test_the_shortening_rule():
    assert fit("short", 10) == "short" and fit(None, 10) is None
    long_text = "a" * 40
    assert len(fit(long_text, 30)) == 30 and fit(long_text, 30) == fit(long_text, 30)
    assert fit(long_text + "x", 30) != fit(long_text + "y", 30)
    assert fit(long_text, 30).startswith("a" * 23 + "~")
    assert qbo_payloads.display_name("A: B::C : D") == "A - B - C - D"
    assert qbo_payloads.display_name("Wayne Enterprises: Gotham") == \
        "Wayne Enterprises - Gotham"


# == plain messages ================================================================================

def test_provider_texts_are_said_once():
    assert distinct(["Invalid String", "Invalid String : DisplayName cannot contain a colon"]
                    ) == ["Invalid String: DisplayName cannot contain a colon"]
    assert distinct(["Same thing.", "same thing", "Other"]) == ["Same thing.", "Other"]
    colon = plain_message("customer", "Parent:Child", "2040", "Invalid String",
                          "Invalid String : DisplayName cannot contain a colon")
    assert colon.count("Invalid String") == 1
    assert colon.startswith("QuickBooks Online refused the customer Parent:Child: Invalid "
                            "String: DisplayName cannot contain a colon")
    stale = plain_message("invoice", "INV/1", "6070", "Amount calculation incorrect",
                          "Amount calculation incorrect : Amount is not equal to UnitPrice "
                          "* Qty")
    assert stale.count("Amount calculation incorrect") == 1
    inactive = plain_message("invoice", "INV/1", "610", "Object Not Found",
                             "Object Not Found : Something you're trying to use has been made "
                             "inactive", "CustomerRef")
    assert inactive.count("Object Not Found") == 1 and "Reactivate it" in inactive
    taken = plain_message("invoice", "INV/1", "6140", "Duplicate Document Number Error",
                          "Duplicate Document Number Error : You must specify a different "
                          "number.")
    assert taken.count("Duplicate Document Number Error") == 1
    assert "Renumber the Odoo document" in taken
    assert "link it manually" in plain_message("customer", "Acme", "6240",
                                               "Duplicate Name Exists Error", "taken")
    assert "Shorten the “DisplayName”" in plain_message(
        "customer", "x", "2050", "String length is either shorter or longer than supported "
        "by specification", "Min:0 Max:100 supported. Supplied length:120", "DisplayName")
    twice = refused_message("invoice", "INV/1", [
        "Account code '999' is not a valid code for this document.",
        "Account code '999' is not a valid code for this document."])
    assert twice.count("Account code '999'") == 1 and "Map the Odoo account" in twice
    assert "Renumber the Odoo document" in refused_message("invoice", "INV/1",
                                                           ["Invoice # must be unique."])
    assert "Map the Odoo tax" in refused_message("bill", "B/1", [
        "The TaxType code 'OUTPUT2' does not exist or cannot be used for this type of "
        "transaction."])
    assert "distinct name" in refused_message("contact", "Acme", [
        "The contact name Acme is already assigned to another contact. The contact name "
        "must be unique across all active contacts."])


def test_a_whole_refusal_reads_once(qbo):
    """The adapter's status ladder (a 400 outside any record) de-duplicates too."""
    body = json.dumps({"Fault": {"Error": [{
        "Message": "Invalid String", "Detail": "Invalid String : DisplayName cannot contain "
        "a colon", "code": "2040"}], "type": "ValidationFault"}}).encode()
    error = qbo.adapter._error_for(400, {}, body)
    assert error.message == ("QuickBooks Online refused the request (HTTP 400): Invalid "
                             "String: DisplayName cannot contain a colon")


# == the whole first sync =========================================================================

def test_first_sync_of_the_default_chart_to_qbo_fails_nothing(qbo):
    """Odoo's generic chart (400000 Product Sales → Sales of Product Income, 600000 Expenses
    → Office Supplies, the bank → Checking, 15 % sales → TAX, 15 % purchase → NON) and a
    Default Product: every record goes, and every total is Odoo's."""
    chart = qbo.adapter.fetch_chart(qbo.tokens, REALM)
    taxes = {t.id: t for t in chart.taxes}
    sales_tax, purchase_tax = taxes["TAX"], taxes["NON"]  # as the accountant maps them
    assert sales_tax.applies_to == "sales" and not sales_tax.exempt
    assert purchase_tax.applies_to == "both" and purchase_tax.exempt
    income = next(a for a in chart.accounts if a.group == "income")
    expense = next(a for a in chart.accounts if a.group == "expense")
    bank = next(a for a in chart.accounts if a.group == "bank")
    results = qbo.push(party("Azure Interior"), party("Deco Addict: Brussels"))
    results += qbo.push(party("Wood Corner", "vendor"))
    default = qbo.ok(Product(key="default", name="Default Product",
                             income_account=Ref(income.id)))
    customer, other, vendor = (r.remote_id for r in results)
    invoice = document("invoice", "INV/2026/00001", customer, [
        Line("[FURN_8888] Office Lamp", D("2"), D("40"), D("80.00"), Ref(income.id),
             tax=Ref(sales_tax.id), tax_amount=D("12.00"), item=Ref(default.remote_id))],
        D("12.00"), "USD")
    bill = document("bill", "BILL/2026/01/0001", vendor, [
        Line("Office rent", D("1"), D("1000"), D("1000.00"), Ref(expense.id),
             tax=Ref(purchase_tax.id), tax_amount=D("150.00"))], D("150.00"), "USD")
    results += qbo.push(invoice) + qbo.push(bill)
    assert all(r.ok for r in results), [str(r.error) for r in results if not r.ok]
    invoice_id, bill_id = results[-2].remote_id, results[-1].remote_id
    assert D(str(qbo.record("Invoice", invoice_id)["TotalAmt"])) == D("92.00")
    assert D(str(qbo.record("Bill", bill_id)["TotalAmt"])) == D("1150.00")
    paid = qbo.push(
        Payment(key="pay-1", kind="customer_payment", date=date(2026, 1, 20),
                party=Ref(customer), amount=D("92.00"), currency="USD", account=Ref(bank.id),
                allocations=[Allocation(Ref(invoice_id), "invoice", D("92.00"))],
                number="BNK1/2026/00001"),
        Payment(key="pay-2", kind="customer_payment", date=date(2026, 1, 20),
                party=Ref(other), amount=D("10.00"), currency="USD", account=Ref(bank.id),
                allocations=[], number="BNK1/2026/00002"))
    paid += qbo.push(Payment(key="pay-3", kind="vendor_payment", date=date(2026, 1, 21),
                             party=Ref(vendor), amount=D("1150.00"), currency="USD",
                             account=Ref(bank.id), number="BNK1/2026/00003",
                             allocations=[Allocation(Ref(bill_id), "bill", D("1150.00"))]))
    assert all(r.ok for r in paid), [str(r.error) for r in paid if not r.ok]
    assert qbo.record("Invoice", invoice_id)["Balance"] == 0
    assert qbo.record("Bill", bill_id)["Balance"] == 0


def test_first_sync_of_the_default_chart_to_xero_fails_nothing(xero):
    """The same to the UK organisation: 15 % sales → OUTPUT2 (20 %), 15 % purchase → INPUT2,
    no product on the bill, no item codes on any line."""
    chart = xero.adapter.fetch_chart(xero.tokens, UK)
    sales_tax = next(t for t in chart.taxes if t.applies_to == "sales" and not t.exempt)
    purchase_tax = next(t for t in chart.taxes if t.applies_to == "purchases"
                        and not t.exempt)
    income = next(a for a in chart.accounts if a.group == "income")
    expense = next(a for a in chart.accounts if a.group == "expense")
    bank = next(a for a in chart.accounts if a.group == "bank")
    results = xero.push(party("Azure Interior"), party("Deco Addict: Brussels"))
    results += xero.push(party("Wood Corner", "vendor"))
    results += xero.push(Product(key="lamp", name="Office Lamp", code="FURN_8888",
                                 sale_price=D("40"), income_account=Ref(income.id)))
    customer, _other, vendor, lamp = (r.remote_id for r in results)
    invoice = document("invoice", "INV/2026/00001", customer, [
        Line("[FURN_8888] Office Lamp", D("2"), D("40"), D("80.00"), Ref(income.id),
             tax=Ref(sales_tax.id), tax_amount=D("12.00"), item=Ref(lamp))],
        D("12.00"), "GBP")
    bill = document("bill", "BILL/2026/01/0001", vendor, [
        Line("Office rent", D("1"), D("1000"), D("1000.00"), Ref(expense.id),
             tax=Ref(purchase_tax.id), tax_amount=D("150.00"))], D("150.00"), "GBP")
    results += xero.push(invoice) + xero.push(bill)
    assert all(r.ok for r in results), [str(r.error) for r in results if not r.ok]
    invoice_id, bill_id = results[-2].remote_id, results[-1].remote_id
    assert D(str(xero.record("Invoices", invoice_id)["Total"])) == D("92.00")
    assert D(str(xero.record("Invoices", bill_id)["Total"])) == D("1150.00")
    paid = xero.push(Payment(key="pay-1", kind="customer_payment", date=date(2026, 1, 20),
                             party=Ref(customer), amount=D("92.00"), currency="GBP",
                             account=Ref(bank.id), number="BNK1/2026/00001",
                             allocations=[Allocation(Ref(invoice_id), "invoice", D("92.00"))]))
    paid += xero.push(Payment(key="pay-2", kind="vendor_payment", date=date(2026, 1, 21),
                              party=Ref(vendor), amount=D("1150.00"), currency="GBP",
                              account=Ref(bank.id), number="BNK1/2026/00002",
                              allocations=[Allocation(Ref(bill_id), "bill", D("1150.00"))]))
    assert all(r.ok for r in paid), [str(r.error) for r in paid if not r.ok]
    assert xero.record("Invoices", invoice_id)["Status"] == "PAID"
    assert xero.record("Invoices", bill_id)["Status"] == "PAID"
