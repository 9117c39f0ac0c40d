"""The HTML pages: consent, error and index. Pure functions returning HTML text; every
value is escaped."""
from html import escape

STYLE = """
body{font-family:system-ui,sans-serif;background:#f3f5f8;color:#1d2733;margin:0}
main{max-width:42rem;margin:3rem auto;background:#fff;border-radius:10px;padding:2rem 2.5rem;
box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.4rem;margin-top:0}h2{font-size:1.05rem;margin:1.6rem 0 .5rem}
.muted{color:#5d6b7a;font-size:.9rem}code{background:#eef1f5;padding:0 .3em;border-radius:3px}
fieldset{border:1px solid #d8dee6;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
label{display:block;margin:.3rem 0}select,input[type=text]{padding:.35rem;font-size:1rem}
button{font-size:1rem;padding:.5rem 1.4rem;border-radius:6px;border:1px solid #2b6cb0;
margin-right:.5rem;cursor:pointer}
button[value=approve]{background:#2b6cb0;color:#fff}
button[value=deny]{background:#fff;color:#2b6cb0}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #e3e8ee;padding:.3rem;text-align:left;vertical-align:top}
"""


def _page(title, body):
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>%s</title><style>%s</style></head><body><main>%s</main></body></html>"
            % (escape(title), STYLE, body))


def consent_page(label, client_id, scopes, params, companies, logins, multiple):
    """The approval form: it posts back to the same URL with the original parameters as
    hidden inputs, a login (select or free text), the companies and approve/deny."""
    hidden = "".join('<input type="hidden" name="%s" value="%s">' % (escape(k), escape(v))
                     for k, v in params.items())
    options = "".join('<option value="%s">%s</option>' % (escape(login), escape(login))
                      for login in logins)
    kind = "checkbox" if multiple else "radio"
    choices = "".join(
        '<label><input type="%s" name="company" value="%s"%s> %s <span class="muted">%s</span>'
        "</label>" % (kind, escape(c["id"]), " checked" if i == 0 else "", escape(c["name"]),
                      escape(c["id"]))
        for i, c in enumerate(companies))
    body = (
        "<h1>%(label)s sandbox: authorize an app</h1>"
        '<p>The app <code>%(client)s</code> asks for: %(scopes)s</p>'
        '<form method="post">%(hidden)s'
        "<fieldset><legend>Sign in as</legend>"
        '<label><select name="login">%(options)s</select></label>'
        '<label>or another e-mail: <input type="text" name="login_other" '
        'placeholder="someone@example.com"></label></fieldset>'
        "<fieldset><legend>%(which)s</legend>%(choices)s</fieldset>"
        '<button type="submit" name="decision" value="approve">Approve</button>'
        '<button type="submit" name="decision" value="deny">Deny</button>'
        '</form><p class="muted">Local provider sandbox: no real %(label)s account is used.</p>'
        % {"label": escape(label), "client": escape(client_id),
           "scopes": " ".join("<code>%s</code>" % escape(s) for s in scopes),
           "hidden": hidden, "options": options, "choices": choices,
           "which": "Organisations to connect" if multiple else "Company to connect"})
    return _page("%s sandbox: authorize" % label, body)


def error_page(label, status, message):
    return _page("%s sandbox: error %s" % (label, status),
                 "<h1>%s sandbox: error %s</h1><p>%s</p>"
                 % (escape(label), status, escape(message)))


def _table(rows, header=None):
    head = "<tr>%s</tr>" % "".join("<th>%s</th>" % escape(h) for h in header) if header else ""
    return "<table>%s%s</table>" % (head, "".join(
        "<tr>%s</tr>" % "".join("<td>%s</td>" % escape(str(cell)) for cell in row)
        for row in rows))


def index_page(base_url, providers, logins, config, controls, faults):
    """``providers``: [(label, {title: url}, [{"id", "name"}])]; ``controls``: [(method,
    path, what)]."""
    sections = "".join(
        "<h2>%s</h2>%s%s" % (escape(label), _table(endpoints.items()),
                             _table([(c["id"], c["name"]) for c in companies], ["Id", "Company"]))
        for label, endpoints, companies in providers)
    body = (
        "<h1>Provider sandbox</h1>"
        '<p class="muted">QuickBooks Online and Xero OAuth and API wire formats on %(url)s. '
        "Any non-empty client id and secret are accepted.</p>"
        "<h2>Odoo settings</h2>%(odoo)s%(sections)s"
        "<h2>Logins</h2><p>Any e-mail; the consent page offers %(logins)s.</p>"
        "<h2>Settings</h2>%(config)s<h2>Active faults</h2>%(faults)s"
        "<h2>Control endpoints</h2>%(controls)s"
        % {"url": escape(base_url),
           "odoo": _table([("Environment", "local"), ("Base URL (accounting_sync.local_url)",
                                                      base_url),
                           ("Client id / secret", "any non-empty values, e.g. sandbox-qbo-client"
                                                  " / sandbox-qbo-secret")]),
           "sections": sections, "logins": escape(", ".join(logins)),
           "config": _table(sorted(config.items())),
           "faults": _table([(f["id"], f["provider"] or "any", f["path_contains"],
                              "close" if f["close"] else f["status"],
                              "handled, answer lost" if f["lose_answer"] else
                              "not handled" if f["status"] or f["close"] else "handled",
                              f["times"] if f["rate"] is None else
                              "rate %s" % f["rate"]) for f in faults],
                            ["Id", "Provider", "Path contains", "Status", "Request",
                             "Times"])
           if faults else "<p>None.</p>",
           "controls": _table(controls, ["Method", "Path", "What"])})
    return _page("Provider sandbox", body)


def record_page(provider_label, resource, company, record):
    """One stored accounting record (what "Open Remote" shows for the local sandbox)."""
    import json  # noqa: PLC0415 - only this page needs it
    if record is None:
        body = "<h1>%s %s</h1><p>No such record in company <code>%s</code>.</p>" % (
            escape(provider_label), escape(resource), escape(company or "-"))
        return _page("Not found", body)
    rows = "".join("<tr><th>%s</th><td><code>%s</code></td></tr>" % (
        escape(str(key)), escape(json.dumps(value, default=str)))
        for key, value in record.items())
    body = "<h1>%s %s</h1><p class=\"muted\">company <code>%s</code></p><table>%s</table>" % (
        escape(provider_label), escape(resource), escape(company or "-"), rows)
    return _page("%s %s" % (provider_label, resource), body)
