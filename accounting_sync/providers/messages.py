"""Every sentence this package says, as a code and its English template.

A :class:`~.errors.ProviderError` (and so every failed ``WriteResult.error``) carries a stable
``code`` and the ``params`` its sentence needs; its ``message`` is ``MESSAGES[code] % params``
(:func:`render`), the English fallback. A ``WriteResult`` that succeeded with something worth
saying carries ``note_code`` / ``note_params`` the same way (the ``note`` codes below). The
Odoo side mirrors :data:`MESSAGES` with translated strings and renders them with the same
``params``; a code it does not know is shown in these words (``str(error)``).

Parameters, by name (every template uses only these):

``provider``   the provider's label ("QuickBooks Online", "Xero")
``noun``       what the record is, one of :data:`NOUNS` (English words a translation may
               translate one by one); also ``thing`` and ``holder`` (the same list)
``odoo_thing`` the Odoo side of a mapped thing: "account", "tax", "bank journal's account"
``record``     how the record is named: its name, number or reference (as sent)
``name``       a remote record's name; ``number`` a document or payment number; ``id`` a
               remote id; ``line`` a line's description; ``account`` an account name or code
``text``       the provider's own words (cleaned, once each; :mod:`.answers`)
``problem``    what is wrong with an answer, in technical English (from :mod:`.answers`)
``theirs`` / ``ours``  the remote and the Odoo value of what differs (e-mails, codes, totals)
``status``     an HTTP status (a number), or a remote record's status in lower case
``seconds``    seconds, as a number; ``size`` a size with its unit ("32 MiB"); ``limit`` a
               rate limit's name ("minute", "day"...); ``field``, ``header``, ``setting``,
               ``environment``, ``kind``, ``rule``, ``reason``, ``suffix``, ``found``,
               ``count`` as their names say
``reference_kind`` / ``reference``  QuickBooks Desktop: what a record refers to that is
               missing there (customer, vendor, product, account, tax, document, record) and
               the id or name QuickBooks named; ``wanted`` the item type the product needs

:data:`GROUPS` sorts the codes the way a person acts on them (the Odoo side's failed-item
groups); :func:`group_of` answers one code's group.
"""
import re


def _lt(template):
    """Marks ``template`` for the Odoo addon's translation catalogue (Odoo's extractor reads
    ``_lt("...")`` in every Python file of the addon, this package included) and returns it
    as it is: this package never imports odoo. The Odoo side translates a message by its
    template (``env._(MESSAGES[code], **params)``)."""
    return template


MESSAGES = {
    # -- configuration (ConfigurationError) ---------------------------------------------------
    "unknown_provider": _lt("Unknown provider “%(provider)s”."),
    "client_credentials_missing": _lt("The %(provider)s app's client id and client secret are "
                                      "not set."),
    "setting_missing": _lt("The %(provider)s setting “%(setting)s” is not set."),
    "base_url_missing": _lt("The local sandbox environment needs a base URL."),
    "unknown_environment": _lt("Unknown environment “%(environment)s”."),
    "insecure_transport": _lt("The %(provider)s OAuth endpoints must use https."),
    "invalid_client": _lt("%(provider)s rejected the app's client id or secret."),
    "bad_company_id": _lt("This is not a valid %(provider)s company id: %(rule)s."),
    "bad_connection_id": _lt("This is not a valid %(provider)s connection id: it is a UUID."),
    "bad_remote_id": _lt("This is not a valid %(provider)s record id: %(rule)s."),
    # -- authorization (AuthorizationError, InvalidGrantError) ---------------------------------
    "not_connected": _lt("The connection has no access token: connect it first."),
    "not_authorized": _lt("%(provider)s refused the access token (HTTP 401)."),
    "token_expired": _lt("The %(provider)s access token has expired."),
    "forbidden": _lt("%(provider)s refused access to this company (HTTP 403)."),
    "forbidden_company": _lt("%(provider)s refused access to this company (HTTP 403): the token "
                             "was issued for another company or environment."),
    "forbidden_organisation": _lt("%(provider)s refused access to this organisation (HTTP 403): "
                                  "it is not connected to this app for the signed-in user."),
    "refused_authorization": _lt("%(provider)s refused the request: %(text)s"),
    "invalid_grant": _lt("%(provider)s no longer accepts this authorization (%(text)s)."),
    "no_authorization_code": _lt("The callback carried no authorization code."),
    "no_refresh_token": _lt("There is no refresh token: the connection was never authorized or "
                            "its tokens were cleared."),
    "token_refused": _lt("%(provider)s refused the token request: %(text)s"),
    "no_company_chosen": _lt("%(provider)s did not say which company was chosen (no %(field)s in "
                             "the callback)."),
    "no_id_token": _lt("%(provider)s returned no identity token (is the openid scope granted?)."),
    "bad_id_token": _lt("%(provider)s's identity token is not valid: %(text)s"),
    # -- throttling (RateLimitError: ``retry_after``; params ``seconds``) ------------------------
    "throttled": _lt("%(provider)s is throttling requests."),
    "throttled_limit": _lt("%(provider)s is throttling requests (%(limit)s limit)."),
    "paced": _lt("%(provider)s's %(limit)s limit is reached; the sync resumes when it allows more "
                 "requests."),
    # -- outages (ProviderUnavailableError) ------------------------------------------------------
    "unavailable": _lt("%(provider)s is unavailable (HTTP %(status)s)."),
    "unreachable": _lt("%(provider)s could not be reached: %(reason)s"),
    "timeout": _lt("%(provider)s did not answer within %(seconds)s seconds."),
    "not_callable": _lt("%(provider)s could not be called: %(text)s"),
    # -- answers (ProviderResponseError) ---------------------------------------------------------
    "unreadable_answer": _lt("%(provider)s sent an answer this connector cannot read: "
                             "%(problem)s."),
    "too_large": _lt("%(provider)s sent an answer larger than %(size)s; it was refused."),
    "redirect": _lt("%(provider)s answered with a redirect (HTTP %(status)s), which is never "
                    "followed: check the %(provider)s address in the settings."),
    # -- a request refused as a whole ------------------------------------------------------------
    "request_refused": _lt("%(provider)s refused the request (HTTP %(status)s): %(text)s"),
    "request_refused_silently": _lt("%(provider)s refused the request (HTTP %(status)s) without "
                                    "saying why."),
    "request_refused_not_json": _lt("%(provider)s answered HTTP %(status)s with a body that is "
                                    "not JSON."),
    # -- one record: the outcome is unknown (WriteResult.outcome_unknown) ---------------------
    "no_answer": _lt("%(provider)s did not answer for this record; sync again."),
    "bad_answer": _lt("%(provider)s sent an answer this connector cannot read: %(problem)s. "
                      "Whether this record was written there is not known; sync again."),
    # -- one record: it cannot be sent as it is ------------------------------------------------
    "item_required": _lt("%(provider)s needs a product on every %(noun)s line, and line "
                         "“%(line)s” has none: set a product on the line, or a Default Product on "
                         "the connection."),
    "allocation_invalid": _lt("A payment cannot be allocated to a %(kind)s."),
    "party_not_synced": _lt("The partner “%(name)s” of a journal line is not a customer, vendor or "
                            "employee in %(provider)s: sync it first."),
    "account_code_missing": _lt("%(provider)s account “%(account)s” has no code; item defaults "
                                "need an account code."),
    "item_code_missing": _lt("%(provider)s needs a code for every item: give the product an "
                             "internal reference or a name with letters or digits."),
    # -- one record: a name or number is in use ----------------------------------------------
    "name_in_use": _lt("%(provider)s already has a %(noun)s named “%(name)s” with e-mail "
                       "%(theirs)s, but the Odoo partner has e-mail %(ours)s. They are not merged "
                       "automatically: rename the Odoo partner (or correct its e-mail), or link it "
                       "to the existing %(noun)s manually."),
    "item_in_use": _lt("%(provider)s already has an item named “%(name)s” with code %(theirs)s, "
                       "but the Odoo product's code is %(ours)s. Rename the Odoo product (or align "
                       "the codes), or link it to the existing item manually."),
    "name_taken": _lt("%(provider)s already has a %(holder)s named “%(name)s”, and it keeps names "
                      "unique across customers, vendors and employees. Give the Odoo partner a "
                      "distinct name, e.g. “%(name)s (%(suffix)s)”, or link it manually."),
    "number_in_use": _lt("%(provider)s already has %(noun)s %(number)s (id %(id)s) for another "
                         "party or another total (%(theirs)s there, %(ours)s in Odoo); it is not "
                         "created a second time. Renumber the Odoo document or void the remote "
                         "one, then sync again."),
    "number_taken": _lt("%(provider)s already has a document numbered %(number)s (%(text)s); it "
                        "is not created a second time. Renumber the Odoo document or void the "
                        "remote one."),
    "duplicate_match": _lt("Another record of this sync already matched %(provider)s record "
                           "“%(name)s” (id %(id)s): link one of them manually."),
    "refused_number_in_use": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. "
                                 "Renumber the Odoo document, or void the one in %(provider)s, "
                                 "then sync again."),
    "refused_name_in_use": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Give the "
                               "Odoo partner a distinct name, or link it to the existing contact "
                               "manually."),
    "refused_item_code": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Give the "
                             "Odoo product a distinct internal reference, or link it to the "
                             "existing item manually."),
    # -- one record: refused by the provider ---------------------------------------------------
    "refused": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s."),
    "refused_overpaid": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s."),
    "refused_colon": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. %(provider)s "
                         "keeps “:” to separate sub-customers and sub-items: remove it from the "
                         "Odoo record, then sync again."),
    "refused_character": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Remove the "
                             "character it names from the Odoo record, then sync again."),
    "refused_too_long": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Shorten the "
                            "field it names in Odoo, then sync again."),
    "refused_too_long_field": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. "
                                  "Shorten the “%(field)s” in Odoo, then sync again."),
    "refused_reference": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Check the "
                             "account and tax mappings (Mappings screen) and that the records it "
                             "references were synced, then retry."),
    "refused_account_type": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Map the "
                                "Odoo account to an income or expense account of %(provider)s "
                                "(Mappings screen), then retry."),
    "refused_journal_party": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Set the "
                                 "partner on that journal line in Odoo, then retry."),
    "refused_account": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Map the Odoo "
                           "account to an active %(provider)s account that this kind of document "
                           "may use (Mappings screen), then retry."),
    "refused_tax": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Map the Odoo tax "
                       "to an active %(provider)s tax rate for this kind of document (Mappings "
                       "screen), then retry."),
    "refused_archived": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. Restore it "
                            "in %(provider)s, or link the Odoo record to an active one."),
    "overpaid_unmatched": _lt("%(provider)s refused the %(noun)s %(record)s: %(text)s. No payment "
                              "there has this one's party, date, amount and documents, so none "
                              "was linked: if another payment paid the document there, remove one "
                              "of the two."),
    "stale": _lt("Someone changed this %(noun)s in %(provider)s at the same time; sync again."),
    "closed_period": _lt("The %(noun)s %(record)s is dated in a period closed in %(provider)s: "
                         "%(text)s"),
    "remote_gone": _lt("%(provider)s no longer has this %(noun)s (id %(id)s): it was deleted or "
                       "made inactive there. Reactivate it, or reset its sync state to create it "
                       "again."),
    "reference_inactive": _lt("%(provider)s cannot find the %(thing)s referenced (inactive or "
                              "deleted): %(text)s. Reactivate it in %(provider)s or sync it "
                              "again."),
    "reference_inactive_mapped": _lt("%(provider)s cannot find the %(thing)s referenced (inactive "
                                     "or deleted): %(text)s. Reactivate it in %(provider)s, or "
                                     "map the Odoo %(odoo_thing)s to an active one (Mappings "
                                     "screen, after refreshing the chart)."),
    "document_not_found": _lt("%(provider)s cannot find the %(noun)s %(record)s: %(text)s"),
    "paid_locked": _lt("The %(noun)s %(record)s cannot be changed: it is paid in %(provider)s: "
                       "remove its payments there first."),
    "status_locked": _lt("The %(noun)s %(record)s cannot be changed: it was %(status)s in "
                         "%(provider)s."),
    "void_before_recreate_refused": _lt("%(provider)s refused to void the %(noun)s %(record)s "
                                        "before recreating it: %(text)s"),
    "recreate_refused": _lt("%(number)s was voided in %(provider)s to be recreated with its new "
                            "lines, but %(provider)s refused the new one: %(text)s. Correct it, "
                            "then reset the record's sync state so that the next sync creates it."),
    "payments_replace_refused": _lt("The old payments were deleted in %(provider)s to be "
                                    "replaced, but %(provider)s refused the new one: %(text)s. "
                                    "Correct it, then reset the record's sync state so that the "
                                    "next sync creates it."),
    "payments_completion_refused": _lt("%(provider)s refused the payments of some of its "
                                       "documents: %(text)s. Its own payments already in "
                                       "%(provider)s for the other documents were deleted again, "
                                       "so that none is left half-made; correct it, then sync "
                                       "again."),
    "payment_replace_failed": _lt("The payment could not be replaced: %(text)s"),
    "payment_delete_refused": _lt("%(provider)s refused to delete the payment: %(text)s"),
    "void_refused": _lt("%(provider)s refused to void the %(noun)s: %(text)s"),
    "void_paid": _lt("The %(noun)s is paid in %(provider)s: delete its payments there first, then "
                     "void it."),
    "deactivate_refused": _lt("%(provider)s refused to deactivate the %(noun)s: %(text)s"),
    # -- notes on a record written (WriteResult.note_code) --------------------------------------
    "recreated_over_voided": _lt("Re-created under the number of a voided document."),
    "already_deleted": _lt("It was already deleted in %(provider)s."),
    "already_gone": _lt("It was already gone from %(provider)s."),
    "already_void": _lt("It was already %(status)s in %(provider)s."),
    "overpaid_linked": _lt("%(provider)s refused it as paying a document already paid: the same "
                           "payment was there already, and is linked."),
    "overpaid_linked_all": _lt("%(provider)s refused it as paying documents already paid: the "
                               "same payments were there already, and are linked."),
    "voided_recreated": _lt("Its lines or amounts changed, which %(provider)s does not allow on an "
                            "approved %(noun)s: %(number)s was voided and recreated."),
    "payments_replaced": _lt("%(provider)s payments cannot be edited: the old ones were deleted "
                             "and new ones created."),
    "payments_completed": _lt("%(provider)s already had the payments of %(found)s of its "
                              "%(count)s documents (from an earlier send): they were linked, and "
                              "the others created."),
    "paid_unchanged": _lt("It is paid in %(provider)s, which then allows no change; lines and "
                          "amounts are unchanged, so nothing was sent."),
    # -- webhooks (WebhookSignatureError, WebhookPayloadError) ------------------------------------
    "webhook_secret_missing": _lt("The %(provider)s setting “%(setting)s” is not set: no webhook "
                                  "can be checked."),
    "webhook_signature_missing": _lt("The %(provider)s webhook carries no signature (no "
                                     "%(header)s header)."),
    "webhook_signature_bad": _lt("The %(provider)s webhook's signature (%(header)s) does not "
                                 "match: it was not sent by %(provider)s with this app's key."),
    "webhook_unreadable": _lt("The %(provider)s webhook cannot be read: %(problem)s."),
    # -- QuickBooks Desktop (a queued provider: the Web Connector) -----------------------------
    "qbd_read_refused": _lt("%(provider)s refused reading what changed: %(text)s. It is read "
                            "again at the next Web Connector run."),
    "qbd_locked": _lt("%(provider)s was busy with the %(noun)s %(record)s (in use or locked by "
                      "another user); it is sent again in the next Web Connector session."),
    "qbd_reference_missing": _lt("%(provider)s cannot find the %(reference_kind)s %(reference)s "
                                 "that the %(noun)s %(record)s refers to: %(text)s. It is synced "
                                 "first, then this record is sent again."),
    "qbd_name_inactive": _lt("%(provider)s already has an inactive %(noun)s named “%(name)s”: "
                             "reactivate it there (it is then linked), or give the Odoo record "
                             "a distinct name."),
    "qbd_item_type": _lt("%(provider)s already has an item named “%(name)s” of type %(found)s, "
                         "not %(wanted)s: give the Odoo product a distinct name, or change its "
                         "type to match."),
    "qbd_payment_change": _lt("The %(noun)s %(record)s is already in %(provider)s, where this "
                              "connector adds payments but never changes them: delete it there "
                              "and reset its sync state to send it again."),
    "qbd_payment_unallocated": _lt("%(provider)s records a bill payment only against bills, and "
                                   "the payment %(record)s pays none: reconcile it with its "
                                   "bills in Odoo first."),
}

# What ``noun``, ``thing`` and ``holder`` may be.
NOUNS = (
    _lt("customer"), _lt("vendor"), _lt("product"), _lt("item"), _lt("contact"), _lt("invoice"),
    _lt("credit note"), _lt("bill"), _lt("vendor credit"), _lt("vendor credit note"),
    _lt("customer payment"), _lt("bill payment"), _lt("payment"), _lt("journal entry"),
    _lt("manual journal"), _lt("record"), _lt("account"), _lt("income account"),
    _lt("expense account"), _lt("bank account"), _lt("tax code"), _lt("document paid"),
    _lt("account or party"), _lt("customer, vendor or employee"),
)

# The codes by what a person does about them.
# ``provider_code`` values that are this package's own (the codes some failures had before
# the catalogue), not a provider's: nothing support would ask for.
OWN_CODES = frozenset({"name_clash", "payload", "bad_company_id", "bad_answer",
                       "duplicate_number"})

GROUPS = {
    # the record: its name or number is taken in the remote company
    "in_use": ("name_in_use", "item_in_use", "name_taken", "number_in_use", "number_taken",
               "duplicate_match", "refused_number_in_use", "refused_name_in_use",
               "refused_item_code", "qbd_name_inactive", "qbd_item_type"),
    # the record: it cannot be sent as it is in Odoo (nothing was sent)
    "cannot_send": ("item_required", "allocation_invalid", "party_not_synced",
                    "account_code_missing", "item_code_missing", "qbd_payment_change",
                    "qbd_payment_unallocated"),
    # the record: whether it was written is unknown; it stays pending, to be looked up
    "unknown_outcome": ("no_answer", "bad_answer"),
    # the record: refused by the provider (fix it in Odoo or there, then retry)
    "refused": ("refused", "refused_overpaid", "refused_colon", "refused_character",
                "refused_too_long", "refused_too_long_field", "refused_reference",
                "refused_account_type", "refused_journal_party", "refused_account",
                "refused_tax", "refused_archived", "overpaid_unmatched", "stale",
                "closed_period", "remote_gone", "reference_inactive",
                "reference_inactive_mapped", "document_not_found", "paid_locked",
                "status_locked", "void_before_recreate_refused", "recreate_refused",
                "payments_replace_refused", "payments_completion_refused",
                "payment_replace_failed", "payment_delete_refused", "void_refused",
                "void_paid", "deactivate_refused", "qbd_reference_missing"),
    # the connection: reconnect, or fix the settings
    "authorization": ("not_connected", "not_authorized", "token_expired", "forbidden",
                      "forbidden_company", "forbidden_organisation", "refused_authorization",
                      "invalid_grant", "no_authorization_code", "no_refresh_token",
                      "token_refused", "no_company_chosen", "no_id_token", "bad_id_token"),
    "configuration": ("unknown_provider", "client_credentials_missing", "setting_missing",
                      "base_url_missing", "unknown_environment", "insecure_transport",
                      "invalid_client", "bad_company_id", "bad_connection_id",
                      "bad_remote_id"),
    # later: wait (``retry_after``), or try again
    "throttled": ("throttled", "throttled_limit", "paced"),
    "unavailable": ("unavailable", "unreachable", "timeout", "qbd_locked", "qbd_read_refused"),
    # the provider answered, not as documented
    "answer": ("unreadable_answer", "too_large", "redirect"),
    # a request refused (or not made) as a whole: not about one record
    "request": ("request_refused", "request_refused_silently", "request_refused_not_json",
                "not_callable"),
    "note": ("recreated_over_voided", "already_deleted", "already_gone", "already_void",
             "overpaid_linked", "overpaid_linked_all", "voided_recreated", "payments_replaced",
             "payments_completed", "paid_unchanged"),
    "webhook": ("webhook_secret_missing", "webhook_signature_missing", "webhook_signature_bad",
                "webhook_unreadable"),
}
_GROUP_OF = {code: group for group, codes in GROUPS.items() for code in codes}
_PARAM = re.compile(r"%\((\w+)\)s")


def render(code, params=None):
    """The English sentence of ``code`` with ``params`` (KeyError: an unknown code or a
    missing parameter, a bug of the caller)."""
    return MESSAGES[code] % dict(params or {})


def params_of(code):
    """The parameter names the template of ``code`` uses."""
    return set(_PARAM.findall(MESSAGES[code]))


def group_of(code):
    """Which of :data:`GROUPS` ``code`` is in (None for a code not in the catalogue)."""
    return _GROUP_OF.get(code)
