{
    "name": "Accounting Sync: QuickBooks Online and Xero",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Keep an Odoo company's books in step with QuickBooks Online and Xero",
    "author": "accounting_sync developers",
    "website": "https://github.com/accounting-sync/accounting_sync",
    "license": "LGPL-3",
    "depends": ["account", "mail"],
    "external_dependencies": {
        "python": ["python-quickbooks", "intuit-oauth", "xero-python", "requests-oauthlib", "PyJWT"],
    },
    "data": [
        "security/accounting_sync_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/accounting_sync_connection_views.xml",
        "views/accounting_sync_oauth_templates.xml",
        "wizard/accounting_sync_connect_wizard_views.xml",
        "views/res_config_settings_views.xml",
        "views/accounting_sync_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "accounting_sync/static/tests/tours/*.js",
        ],
    },
}
