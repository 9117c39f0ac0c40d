"""What the Odoo side knows of the kinds of record it syncs, in one place: which model holds
each kind, which move types and payment types are which kind, what each access scope lets a
connection send, and the system parameters it reads."""
from .providers.documents import KINDS

# Odoo move type -> kind of document.
MOVE_KINDS = {
    "out_invoice": "invoice", "out_refund": "credit_note",
    "in_invoice": "bill", "in_refund": "vendor_credit",
}
# Odoo payment partner type -> kind of payment.
PAYMENT_KINDS = {"customer": "customer_payment", "supplier": "vendor_payment"}
# Kind -> the Odoo model whose records are sent as it.
MODEL_OF_KIND = {
    "customer": "res.partner", "vendor": "res.partner", "product": "product.product",
    "invoice": "account.move", "credit_note": "account.move", "bill": "account.move",
    "vendor_credit": "account.move", "journal_entry": "account.move",
    "customer_payment": "account.payment", "vendor_payment": "account.payment",
}
SYNCED_MODELS = tuple(sorted(set(MODEL_OF_KIND.values())))
# Short names of the synced models in idempotency keys.
MODEL_CODES = {"account.move": "m", "account.payment": "p", "res.partner": "c",
               "product.product": "i"}

# Access scope -> the kinds a connection may send.
SALES_KINDS = ("customer", "product", "invoice", "credit_note", "customer_payment")
SCOPE_KINDS = {"all_accounting": KINDS,
               "customers_sales": tuple(k for k in KINDS if k in SALES_KINDS)}
SCOPE_MOVE_TYPES = {
    "all_accounting": ("out_invoice", "out_refund", "in_invoice", "in_refund"),
    "customers_sales": ("out_invoice", "out_refund"),
}

# The fields of a record whose change is a change of what is sent (the synced models mark
# their sync state due when one of them is written).
SENT_FIELDS = {
    "res.partner": {"name", "email", "phone", "mobile", "vat", "street", "street2", "city",
                    "zip", "state_id", "country_id", "is_company", "company_name"},
    "product.product": {"name", "default_code", "description_sale", "list_price",
                        "standard_price", "type", "property_account_income_id",
                        "property_account_expense_id", "categ_id", "active"},
    "account.move": {"ref", "invoice_date_due", "narration", "payment_reference"},
    "account.payment": {"memo"},
}

# System parameters.
PARAM_TIMEOUT = "accounting_sync.timeout"
PARAM_TIME_SCALE = "accounting_sync.local_time_scale"
PARAM_RUN_BUDGET = "accounting_sync.run_time_budget"
PARAM_RETRY_BACKOFF = "accounting_sync.retry_backoff"
PARAM_LOCAL_URL = "accounting_sync.local_url"
PARAM_SUPPORT_EMAIL = "accounting_sync.support_email"
PARAM_EXPIRY_DAYS = "accounting_sync.expiry_warning_days"
