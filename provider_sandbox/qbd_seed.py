"""Seed data of the QuickBooks Desktop stand-in (``qbd.py``): the lists a new company file of
each country starts with (chart of accounts, sales tax codes and items, terms, payment
methods, a few items, customers, vendors, an employee and an other name), and the Host /
Company / Preferences answers (the "HCP response" the Web Connector hands to the app).

Values are qbXML text as the company file stores it; references are by FullName and are
resolved when the seed is loaded. US files do sales tax through a sales tax item
(``ItemSalesTaxRef``) and the two codes Tax/Non; Canadian and UK files through a tax code per
line, each code pointing at the sales tax item that holds its rate (``SalesTaxCodeRet/
ItemSalesTaxRef``), as in those editions.
"""
COUNTRIES = ("US", "CA", "UK")
DEFAULT_VERSIONS = tuple("%d.0" % major for major in range(1, 14))
PRODUCT_NAMES = {
    "US": "QuickBooks Premier Edition 2014",
    "CA": "QuickBooks Premier Edition 2014 (Canada)",
    "UK": "QuickBooks Pro 2014 (UK)",
}
ADDRESSES = {
    "US": {"Addr1": "100 Main Street", "City": "Springfield", "State": "IL",
           "PostalCode": "62701", "Country": "US"},
    "CA": {"Addr1": "200 Bay Street", "City": "Toronto", "State": "ON",
           "PostalCode": "M5J 2J5", "Country": "Canada"},
    # qbXML 13.0 has no County element in its addresses: the UK region stays out.
    "UK": {"Addr1": "1 High Street", "City": "Reading", "PostalCode": "RG1 1AA",
           "Country": "United Kingdom"},
}


def _account(name, kind, number=None, special=None):
    record = {"Name": name, "AccountType": kind}
    if special:
        record["SpecialAccountType"] = special
    if number:
        record["AccountNumber"] = number
    return record


def accounts(country):
    tax = {"US": "Sales Tax Payable", "CA": "GST/HST Payable", "UK": "VAT Control"}[country]
    return [
        _account("Checking", "Bank", "1000"),
        _account("Savings", "Bank", "1010"),
        _account("Accounts Receivable", "AccountsReceivable", "1200", "AccountsReceivable"),
        _account("Undeposited Funds", "OtherCurrentAsset", "1499", "UndepositedFunds"),
        _account("Inventory Asset", "OtherCurrentAsset", "1120", "InventoryAssets"),
        _account("Accounts Payable", "AccountsPayable", "2000", "AccountsPayable"),
        _account(tax, "OtherCurrentLiability", "2200", "SalesTaxPayable"),
        _account("Opening Balance Equity", "Equity", "3000", "OpeningBalanceEquity"),
        _account("Retained Earnings", "Equity", "3900", "RetainedEarnings"),
        _account("Sales", "Income", "4000"),
        _account("Services", "Income", "4100"),
        _account("Cost of Goods Sold", "CostOfGoodsSold", "5000", "CostOfGoodsSold"),
        _account("Office Supplies", "Expense", "6400"),
        _account("Rent Expense", "Expense", "6700"),
        _account("Utilities", "Expense", "6900"),
        _account("Bank Service Charges", "Expense"),
    ]


# (code, description, taxable, sales tax item name or None, rate of that item)
TAX_CODES = {
    "US": [("Tax", "Taxable Sales", True, None, None),
           ("Non", "Non-Taxable Sales", False, None, None)],
    "CA": [("G", "GST", True, "GST", "5.0"), ("H", "HST ON", True, "HST ON", "13.0"),
           ("Z", "Zero-rated", True, "GST Zero", "0.0"), ("E", "Exempt", False, None, None)],
    "UK": [("S", "Standard rate VAT", True, "VAT Standard", "20.0"),
           ("R", "Reduced rate VAT", True, "VAT Reduced", "5.0"),
           ("Z", "Zero rate VAT", True, "VAT Zero", "0.0"),
           ("E", "Exempt from VAT", False, None, None)],
}
US_SALES_TAX = ("State Tax", "State sales tax", "8.25")


def sales_tax_items(country):
    if country == "US":
        name, desc, rate = US_SALES_TAX
        return [{"Name": name, "ItemDesc": desc, "TaxRate": rate}]
    return [{"Name": item, "ItemDesc": desc, "TaxRate": rate}
            for _code, desc, _taxable, item, rate in TAX_CODES[country] if item]


def sales_tax_codes(country):
    out = []
    for code, desc, taxable, item, _rate in TAX_CODES[country]:
        record = {"Name": code, "IsTaxable": "true" if taxable else "false", "Desc": desc}
        if item:
            record["ItemSalesTaxRef"] = {"FullName": item}
        out.append(record)
    return out


def taxable_code(country):
    return {"US": "Tax", "CA": "G", "UK": "S"}[country]


def items(country):
    code = taxable_code(country)
    service = {"Name": "Consulting", "SalesTaxCodeRef": {"FullName": "Non" if country == "US"
                                                         else code},
               "SalesOrPurchase": {"Desc": "Consulting services", "Price": "100.00",
                                   "AccountRef": {"FullName": "Services"}}}
    goods = {"Name": "Widget", "SalesTaxCodeRef": {"FullName": code},
             "SalesOrPurchase": {"Desc": "Widget", "Price": "25.00",
                                 "AccountRef": {"FullName": "Sales"}}}
    return {"ItemService": [service], "ItemNonInventory": [goods]}


TERMS = [
    {"Name": "Net 30", "StdDueDays": "30"},
    {"Name": "Net 15", "StdDueDays": "15"},
    {"Name": "Due on receipt", "StdDueDays": "0"},
    {"Name": "1% 10 Net 30", "StdDueDays": "30", "StdDiscountDays": "10", "DiscountPct": "1.00"},
]
PAYMENT_METHODS = [
    {"Name": "Cash", "PaymentMethodType": "Cash"},
    {"Name": "Check", "PaymentMethodType": "Check"},
    {"Name": "Visa", "PaymentMethodType": "Visa"},
]


def names(country):
    address = dict(ADDRESSES[country])
    return {
        "Customer": [{"Name": "Acme Corporation", "CompanyName": "Acme Corporation",
                      "BillAddress": address, "Email": "billing@acme.example",
                      "TermsRef": {"FullName": "Net 30"}},
                     {"Name": "Bright Ideas", "CompanyName": "Bright Ideas",
                      "FirstName": "Ada", "LastName": "Lovelace"}],
        "Vendor": [{"Name": "Office Depot", "CompanyName": "Office Depot",
                    "VendorAddress": address, "TermsRef": {"FullName": "Net 30"}},
                   {"Name": "City Power"}],
        "Employee": [{"Name": "Jane Doe", "FirstName": "Jane", "LastName": "Doe"}],
        "OtherName": [{"Name": "Owner's Draw"}],
    }


def preferences(country):
    """PreferencesRet (the schema requires every block but the last few)."""
    sales_tax = None
    if country == "US":
        sales_tax = {"DefaultItemSalesTaxRef": {"FullName": US_SALES_TAX[0]},
                     "PaySalesTax": "Monthly",
                     "DefaultTaxableSalesTaxCodeRef": {"FullName": "Tax"},
                     "DefaultNonTaxableSalesTaxCodeRef": {"FullName": "Non"}}
    prefs = {
        "AccountingPreferences": {"IsUsingAccountNumbers": "true", "IsRequiringAccounts": "true",
                                  "IsUsingClassTracking": "false", "IsUsingAuditTrail": "true",
                                  "IsAssigningJournalEntryNumbers": "true"},
        "FinanceChargePreferences": {"AnnualInterestRate": "0.00", "MinFinanceCharge": "0.00",
                                     "GracePeriod": "0", "IsAssessingForOverdueCharges": "false",
                                     "CalculateChargesFrom": "DueDate",
                                     "IsMarkedToBePrinted": "false"},
        "JobsAndEstimatesPreferences": {"IsUsingEstimates": "true",
                                        "IsUsingProgressInvoicing": "false",
                                        "IsPrintingItemsWithZeroAmounts": "false"},
        "MultiCurrencyPreferences": {"IsMultiCurrencyOn": "false"},
        "MultiLocationInventoryPreferences": {"IsMultiLocationInventoryAvailable": "false",
                                              "IsMultiLocationInventoryEnabled": "false"},
        "PurchasesAndVendorsPreferences": {"IsUsingInventory": "false", "DaysBillsAreDue": "10",
                                           "IsAutomaticallyUsingDiscounts": "false"},
        "ReportsPreferences": {"AgingReportBasis": "AgeFromDueDate",
                               "SummaryReportBasis": "Accrual"},
        "SalesAndCustomersPreferences": {"IsTrackingReimbursedExpensesAsIncome": "false",
                                         "IsAutoApplyingPayments": "false",
                                         "PriceLevels": {"IsUsingPriceLevels": "false",
                                                         "IsRoundingSalesPriceUp": "false"}},
        "SalesTaxPreferences": sales_tax,
        "TimeTrackingPreferences": {"FirstDayOfWeek": "Monday"},
        "CurrentAppAccessRights": {"IsAutomaticLoginAllowed": "true",
                                   "AutomaticLoginUserName": "Admin",
                                   "IsPersonalDataAccessAllowed": "true"},
    }
    return {key: value for key, value in prefs.items() if value is not None}
